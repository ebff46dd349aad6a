/**
 * Reference 2-D convolution (channels-last, see Conv2dSpec): direct loops, the specification
 * the oneDNN-backed native convolution is tested against. Forward, backward-data and
 * backward-weights side by side; under bf16 the inputs of each product are rounded first, as the
 * native kernels see them.
 */
import { convOutputSize, type Conv2dSpec, type Kernels } from '../types.js';
import { roundBf16 } from './linalg.js';

function rounded(x: Float32Array, s: Conv2dSpec): Float32Array {
  return s.dtype === 'bf16' ? x.map(roundBf16) : x;
}

/** Visits every (output pixel, kernel tap) pair whose input pixel is inside the image. */
function forEachTap(
  s: Conv2dSpec,
  visit: (xPixel: number, yPixel: number, tap: number) => void,
): void {
  const oh = convOutputSize(s.height, s.kernelH, s.stride, s.padding);
  const ow = convOutputSize(s.width, s.kernelW, s.stride, s.padding);
  for (let n = 0; n < s.batch; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ky = 0; ky < s.kernelH; ky++) {
          const iy = oy * s.stride - s.padding + ky;
          if (iy < 0 || iy >= s.height) continue;
          for (let kx = 0; kx < s.kernelW; kx++) {
            const ix = ox * s.stride - s.padding + kx;
            if (ix < 0 || ix >= s.width) continue;
            visit((n * s.height + iy) * s.width + ix, (n * oh + oy) * ow + ox, ky * s.kernelW + kx);
          }
        }
}

function conv2dForward(
  x0: Float32Array,
  w0: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
  s: Conv2dSpec,
): void {
  const x = rounded(x0, s);
  const w = rounded(w0, s);
  const { inChannels: ci, outChannels: co } = s;
  const taps = s.kernelH * s.kernelW;
  const pixels = y.length / co;
  for (let p = 0; p < pixels; p++) for (let o = 0; o < co; o++) y[p * co + o] = bias ? bias[o]! : 0;
  forEachTap(s, (xp, yp, tap) => {
    for (let o = 0; o < co; o++) {
      let acc = 0;
      for (let c = 0; c < ci; c++) acc += x[xp * ci + c]! * w[(o * taps + tap) * ci + c]!;
      y[yp * co + o]! += acc;
    }
  });
}

function conv2dBackwardData(
  dy0: Float32Array,
  w0: Float32Array,
  dx: Float32Array,
  s: Conv2dSpec,
): void {
  const dy = rounded(dy0, s);
  const w = rounded(w0, s);
  const { inChannels: ci, outChannels: co } = s;
  const taps = s.kernelH * s.kernelW;
  forEachTap(s, (xp, yp, tap) => {
    for (let c = 0; c < ci; c++) {
      let acc = 0;
      for (let o = 0; o < co; o++) acc += dy[yp * co + o]! * w[(o * taps + tap) * ci + c]!;
      dx[xp * ci + c]! += acc;
    }
  });
}

function conv2dBackwardWeights(
  x0: Float32Array,
  dy0: Float32Array,
  dw: Float32Array,
  db: Float32Array | null,
  s: Conv2dSpec,
): void {
  const x = rounded(x0, s);
  const dy = rounded(dy0, s);
  const { inChannels: ci, outChannels: co } = s;
  const taps = s.kernelH * s.kernelW;
  forEachTap(s, (xp, yp, tap) => {
    for (let o = 0; o < co; o++) {
      const g = dy[yp * co + o]!;
      const row = (o * taps + tap) * ci;
      for (let c = 0; c < ci; c++) dw[row + c]! += g * x[xp * ci + c]!;
    }
  });
  if (db) {
    // the bias gradient sums dy as the product saw it (rounded under bf16), in f32
    const pixels = dy.length / co;
    for (let p = 0; p < pixels; p++) for (let o = 0; o < co; o++) db[o]! += dy[p * co + o]!;
  }
}

export const convReference: Pick<
  Kernels,
  'conv2dForward' | 'conv2dBackwardData' | 'conv2dBackwardWeights'
> = { conv2dForward, conv2dBackwardData, conv2dBackwardWeights };
