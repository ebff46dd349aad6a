/**
 * Native convolution (oneDNN) and GELU against the TypeScript reference, over odd shapes:
 * 1x1 kernels, non-square images and kernels, stride 1/2/3, padding 0/1/2, with and without
 * bias, f32 and bf16. bf16 compares against the reference run in bf16 (same input rounding).
 * Backward kernels must accumulate into what the gradient buffers already hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels } from '../../src/engine/kernels/reference.js';
import { convOutputSize, type Conv2dSpec } from '../../src/engine/kernels/types.js';
import { assertClose, randArray, rawAddon } from '../helpers.js';
import { Tensor, conv2d } from '../../src/engine/index.js';

const addon = rawAddon();

type Shape = Omit<Conv2dSpec, 'dtype'>;
const SHAPES: Shape[] = [
  // 1x1 kernel, stride 1, no padding: a per-pixel linear map
  {
    batch: 2,
    height: 5,
    width: 7,
    inChannels: 3,
    outChannels: 4,
    kernelH: 1,
    kernelW: 1,
    stride: 1,
    padding: 0,
  },
  // 3x3, padding 1, stride 1, non-square image
  {
    batch: 1,
    height: 6,
    width: 9,
    inChannels: 5,
    outChannels: 8,
    kernelH: 3,
    kernelW: 3,
    stride: 1,
    padding: 1,
  },
  // stride 2 over an odd size (the far column is never read)
  {
    batch: 3,
    height: 7,
    width: 8,
    inChannels: 4,
    outChannels: 6,
    kernelH: 3,
    kernelW: 3,
    stride: 2,
    padding: 1,
  },
  // non-square kernel, stride 2, no padding
  {
    batch: 2,
    height: 9,
    width: 6,
    inChannels: 3,
    outChannels: 5,
    kernelH: 3,
    kernelW: 2,
    stride: 2,
    padding: 0,
  },
  // 1x1 with stride 2 on an even size (oneDNN's far padding is negative here)
  {
    batch: 1,
    height: 6,
    width: 6,
    inChannels: 7,
    outChannels: 3,
    kernelH: 1,
    kernelW: 1,
    stride: 2,
    padding: 0,
  },
  // stride 3, padding 2, 5x5 kernel
  {
    batch: 2,
    height: 11,
    width: 10,
    inChannels: 2,
    outChannels: 3,
    kernelH: 5,
    kernelW: 5,
    stride: 3,
    padding: 2,
  },
  // a stem-like layer, large enough for oneDNN's blocked AVX-512 path and both threads
  {
    batch: 4,
    height: 32,
    width: 32,
    inChannels: 32,
    outChannels: 64,
    kernelH: 3,
    kernelW: 3,
    stride: 2,
    padding: 1,
  },
];

const tol = (spec: Conv2dSpec): [number, number] =>
  spec.dtype === 'f32' ? [1e-4, 1e-4] : [2e-2, 2e-2];

test('convOutputSize follows the floor rule', () => {
  assert.equal(convOutputSize(64, 3, 2, 1), 32);
  assert.equal(convOutputSize(7, 3, 2, 1), 4);
  assert.equal(convOutputSize(6, 1, 2, 0), 3);
  assert.equal(convOutputSize(5, 5, 1, 0), 1);
});

test('conv2d forward, backward-data and backward-weights match the reference', () => {
  assert.ok(addon, 'build/Release/visurf_native.node missing: run make build');
  let seed = 100;
  for (const dtype of ['f32', 'bf16'] as const)
    for (const shape of SHAPES)
      for (const withBias of [true, false]) {
        const spec: Conv2dSpec = { ...shape, dtype };
        const oh = convOutputSize(spec.height, spec.kernelH, spec.stride, spec.padding);
        const ow = convOutputSize(spec.width, spec.kernelW, spec.stride, spec.padding);
        const xLen = spec.batch * spec.height * spec.width * spec.inChannels;
        const yLen = spec.batch * oh * ow * spec.outChannels;
        const wLen = spec.outChannels * spec.kernelH * spec.kernelW * spec.inChannels;
        const x = randArray(xLen, seed++);
        const w = randArray(wLen, seed++);
        const bias = withBias ? randArray(spec.outChannels, seed++) : null;
        const dy = randArray(yLen, seed++);
        const what = `${JSON.stringify(spec)} bias=${withBias}`;
        const [rtol, atol] = tol(spec);

        const yRef = new Float32Array(yLen).fill(7); // forward overwrites
        const yNat = new Float32Array(yLen).fill(-7);
        referenceKernels.conv2dForward(x, w, bias, yRef, spec);
        addon.conv2dForward(x, w, bias, yNat, spec);
        assertClose(yNat, yRef, rtol, atol, `forward ${what}`);

        const dx0 = randArray(xLen, seed++); // backward accumulates
        const dxRef = dx0.slice();
        const dxNat = dx0.slice();
        referenceKernels.conv2dBackwardData(dy, w, dxRef, spec);
        addon.conv2dBackwardData(dy, w, dxNat, spec);
        assertClose(dxNat, dxRef, rtol, atol, `backward-data ${what}`);

        const dw0 = randArray(wLen, seed++);
        const db0 = withBias ? randArray(spec.outChannels, seed++) : null;
        const dwRef = dw0.slice();
        const dwNat = dw0.slice();
        const dbRef = db0 ? db0.slice() : null;
        const dbNat = db0 ? db0.slice() : null;
        referenceKernels.conv2dBackwardWeights(x, dy, dwRef, dbRef, spec);
        addon.conv2dBackwardWeights(x, dy, dwNat, dbNat, spec);
        // weight gradients sum over every output pixel: scale the tolerance with that count
        const pixels = spec.batch * oh * ow;
        assertClose(dwNat, dwRef, rtol, atol * Math.sqrt(pixels), `backward-weights ${what}`);
        if (dbRef && dbNat) assertClose(dbNat, dbRef, 1e-4, 1e-4 * pixels, `bias grad ${what}`);
      }
});

test('conv2d: bad arguments are clear errors, never out-of-bounds accesses', () => {
  assert.ok(addon);
  const spec: Conv2dSpec = { ...SHAPES[1]!, dtype: 'f32' };
  const x = new Float32Array(6 * 9 * 5);
  const w = new Float32Array(8 * 3 * 3 * 5);
  const y = new Float32Array(6 * 9 * 8);
  assert.throws(() => addon.conv2dForward(x.subarray(1), w, null, y, spec), /conv2dForward: x has/);
  assert.throws(() => addon.conv2dForward(x, w, null, y.subarray(3), spec), /conv2dForward: y has/);
  assert.throws(
    () => addon.conv2dForward(x, w, new Float32Array(2), y, spec),
    /conv2dForward: bias has 2 elements/,
  );
  assert.throws(
    () => addon.conv2dBackwardData(y, w, x, { ...spec, stride: 0 }),
    /spec.stride must be an integer >= 1/,
  );
  assert.throws(
    () => addon.conv2dBackwardWeights(x, y, w, null, { ...spec, dtype: 'f16' as 'f32' }),
    /spec.dtype must be 'f32' or 'bf16'/,
  );
  assert.throws(
    () => addon.conv2dForward(x, w, null, y, { ...spec, padding: 3 }),
    /padding must be smaller than the kernel/,
  );
  assert.throws(
    () => addon.conv2dForward(x, w, null, y, { ...spec, kernelH: 20, padding: 0 }),
    /kernel is larger than the padded input/,
  );
});

test('gelu forward and backward match the reference, including saturation and NaN', () => {
  assert.ok(addon);
  const x = randArray(5000, 3, 4);
  x[0] = 40;
  x[1] = -40;
  x[2] = 0;
  x[3] = NaN;
  const dy = randArray(5000, 4);
  const yRef = new Float32Array(5000);
  const yNat = new Float32Array(5000);
  referenceKernels.geluForward(x, yRef, 5000);
  addon.geluForward(x, yNat, 5000);
  assert.ok(Number.isNaN(yNat[3]!) && Number.isNaN(yRef[3]!));
  yNat[3] = yRef[3] = 0;
  assertClose(yNat, yRef, 1e-5, 1e-6, 'gelu forward');
  assert.equal(yNat[0], 40);
  assert.equal(yNat[1], -0);
  const d0 = randArray(5000, 5);
  const dRef = d0.slice();
  const dNat = d0.slice();
  referenceKernels.geluBackward(x, dy, dRef, 5000);
  addon.geluBackward(x, dy, dNat, 5000);
  dNat[3] = dRef[3] = 0;
  assertClose(dNat, dRef, 1e-5, 1e-6, 'gelu backward');
});

test('conv2d op: shape problems are ShapeErrors naming the op and the shapes', () => {
  const x = Tensor.zeros([1, 6, 6, 3]);
  const w = Tensor.zeros([4, 3, 3, 3]);
  assert.throws(() => conv2d(x, Tensor.zeros([4, 3, 3, 2]), null), /conv2d: input \[1, 6, 6, 3\]/);
  assert.throws(() => conv2d(x, w, Tensor.zeros([5])), /conv2d: bias \[5\] must be \[4\]/);
  assert.throws(() => conv2d(x, w, null, { stride: 0 }), /conv2d: stride must be an integer >= 1/);
  assert.throws(() => conv2d(x, w, null, { padding: 1.5 }), /conv2d: padding must be an integer/);
  assert.throws(() => conv2d(x, w, null, { padding: 3 }), /padding 3 must be smaller than the 3x3/);
  assert.throws(
    () => conv2d(Tensor.zeros([1, 2, 2, 3]), w, null),
    /a 3x3 kernel does not fit input \[1, 2, 2, 3\]/,
  );
  assert.deepEqual(conv2d(x, w, null, { stride: 2, padding: 1 }).shape, [1, 3, 3, 4]);
});
