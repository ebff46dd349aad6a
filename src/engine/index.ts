/** The tensor engine: tensors, autograd, ops, optimizer, kernels. */
export * from './kernels/index.js';
export * from './tensor.js';
export * from './autograd.js';
export * from './config.js';
export * from './optim.js';
export * from './ops/linalg.js';
export * from './ops/elementwise.js';
export * from './ops/shape.js';
export * from './ops/nn.js';
export * from './ops/loss.js';
export * from './gradcheck.js';
export * from './random.js';
export * from './memory.js';
export * from './ops/conv.js';
export type * from './image.js';
