export * from './kernels/index.js';
