/**
 * Conv stem throughput: GFLOP/s of the `small-conv` vision stem's convolutions, forward plus
 * backward (data and weights; the first layer's input needs no gradient), on a batch of images
 * as the pre-training step runs it. Kernels are called directly, with reused buffers, so the
 * figure is the convolutions' own, next to the matmul figure.
 */
import { kernels } from '../engine/index.js';
import { convOutputSize, type Conv2dSpec, type MatmulDtype } from '../engine/index.js';
import { SMALL_CONV_CONFIG } from '../model/config.js';
import { peakRssMb, secondsPerCall } from './measure.js';

export interface ConvStemResult {
  name: 'conv_stem';
  dtype: MatmulDtype;
  /** images per call */
  size: number;
  gflops: number;
  /** milliseconds for the whole stem's forward + backward */
  ms: number;
  peak_rss_mb: number;
}

export function benchConvStem(dtype: MatmulDtype, batch = 32): ConvStemResult {
  const stem = SMALL_CONV_CONFIG.vision.stem;
  if (stem.kind !== 'conv') throw new Error('bench: small-conv has no conv stem');
  const K = kernels();
  const fill = (n: number, seed: number) =>
    Float32Array.from({ length: n }, (_, i) => (((i + seed) * 7919) % 1000) / 1000 - 0.5);
  let size = SMALL_CONV_CONFIG.image.size;
  let cin = 3;
  let flops = 0;
  const layers = stem.layers.map((l, i) => {
    const pad = Math.floor(l.kernel / 2);
    const spec: Conv2dSpec = {
      batch,
      height: size,
      width: size,
      inChannels: cin,
      outChannels: l.channels,
      kernelH: l.kernel,
      kernelW: l.kernel,
      stride: l.stride,
      padding: pad,
      dtype,
    };
    const out = convOutputSize(size, l.kernel, l.stride, pad);
    const x = fill(batch * size * size * cin, i);
    const w = fill(l.channels * l.kernel * l.kernel * cin, i + 1);
    const y = new Float32Array(batch * out * out * l.channels);
    const layerFlops = 2 * batch * out * out * l.channels * l.kernel * l.kernel * cin;
    const needsDx = i > 0;
    flops += layerFlops * (needsDx ? 3 : 2);
    const buffers = {
      spec,
      x,
      w,
      bias: new Float32Array(l.channels),
      y,
      dx: new Float32Array(x.length),
      dw: new Float32Array(w.length),
      db: new Float32Array(l.channels),
      needsDx,
    };
    size = out;
    cin = l.channels;
    return buffers;
  });
  const run = () => {
    for (const L of layers) K.conv2dForward(L.x, L.w, L.bias, L.y, L.spec);
    for (const L of [...layers].reverse()) {
      if (L.needsDx) K.conv2dBackwardData(L.y, L.w, L.dx, L.spec);
      K.conv2dBackwardWeights(L.x, L.y, L.dw, L.db, L.spec);
    }
  };
  const s = secondsPerCall(run);
  return {
    name: 'conv_stem',
    dtype,
    size: batch,
    gflops: Math.round(flops / s / 1e7) / 100,
    ms: Math.round(s * 1e5) / 100,
    peak_rss_mb: peakRssMb(),
  };
}
