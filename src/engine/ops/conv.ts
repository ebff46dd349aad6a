/**
 * Convolution ops for the vision stem: conv2d (channels-last, optional bias) and GELU.
 * Forward and backward side by side; the kernels are kernels().conv2d* and gelu*.
 */
import { kernels } from '../kernels/index.js';
import { allocF32 } from '../memory.js';
import { getMatmulDtype } from '../config.js';
import { convOutputSize, type Conv2dSpec } from '../kernels/types.js';
import { ShapeError, Tensor, expectShape, formatShape, opResult } from '../tensor.js';

export interface Conv2dOptions {
  /** the same stride along both axes (default 1) */
  stride?: number;
  /** zero padding on every side (default 0); must be smaller than the kernel */
  padding?: number;
}

function checkInt(value: number, min: number, what: string): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ShapeError(`conv2d: ${what} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/**
 * 2-D convolution. x: [batch, height, width, inChannels] (NHWC); w: [outChannels, kernelH,
 * kernelW, inChannels] (OHWI); bias: [outChannels] or null. Output [batch, outH, outW,
 * outChannels] with outH = floor((height + 2 padding - kernelH) / stride) + 1.
 */
export function conv2d(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  opts: Conv2dOptions = {},
): Tensor {
  const stride = checkInt(opts.stride ?? 1, 1, 'stride');
  const padding = checkInt(opts.padding ?? 0, 0, 'padding');
  expectShape(
    x.rank === 4 && w.rank === 4 && x.dim(3) === w.dim(3),
    'conv2d',
    () =>
      `input ${formatShape(x.shape)} must be [batch, height, width, channels] and weight ` +
      `${formatShape(w.shape)} [out, kernelH, kernelW, channels] with the same channels`,
  );
  const [batch, height, width, inChannels] = x.shape as [number, number, number, number];
  const [outChannels, kernelH, kernelW] = w.shape as [number, number, number, number];
  expectShape(
    bias === null || (bias.rank === 1 && bias.dim(0) === outChannels),
    'conv2d',
    () => `bias ${formatShape(bias!.shape)} must be [${outChannels}]`,
  );
  expectShape(
    padding < kernelH && padding < kernelW,
    'conv2d',
    () => `padding ${padding} must be smaller than the ${kernelH}x${kernelW} kernel`,
  );
  const outH = convOutputSize(height, kernelH, stride, padding);
  const outW = convOutputSize(width, kernelW, stride, padding);
  expectShape(
    outH >= 1 && outW >= 1,
    'conv2d',
    () =>
      `a ${kernelH}x${kernelW} kernel does not fit input ${formatShape(x.shape)} padded by ${padding}`,
  );
  const spec: Conv2dSpec = {
    batch,
    height,
    width,
    inChannels,
    outChannels,
    kernelH,
    kernelW,
    stride,
    padding,
    dtype: getMatmulDtype(),
  };
  const K = kernels();
  const y = allocF32(batch * outH * outW * outChannels, false);
  K.conv2dForward(x.data, w.data, bias ? bias.data : null, y, spec);
  const inputs = bias ? [x, w, bias] : [x, w];
  return opResult('conv2d', y, [batch, outH, outW, outChannels], inputs, (out) => {
    const dy = out.grad!;
    if (x.requiresGrad) K.conv2dBackwardData(dy, w.data, x.gradBuffer(), spec);
    if (w.requiresGrad || bias?.requiresGrad) {
      // The kernel writes both gradients; a scratch buffer stands in for one not needed.
      const dw = w.requiresGrad ? w.gradBuffer() : allocF32(w.size);
      const db = bias
        ? bias.requiresGrad
          ? bias.gradBuffer()
          : new Float32Array(outChannels)
        : null;
      K.conv2dBackwardWeights(x.data, dy, dw, db, spec);
    }
  });
}

/** GELU (tanh form), elementwise. */
export function gelu(x: Tensor): Tensor {
  const K = kernels();
  const y = allocF32(x.size, false);
  K.geluForward(x.data, y, x.size);
  return opResult('gelu', y, x.shape, [x], (out) => {
    K.geluBackward(x.data, out.grad!, x.gradBuffer(), x.size);
  });
}
