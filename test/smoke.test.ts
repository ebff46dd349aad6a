import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels } from '../src/engine/kernels/index.js';

test('reference matmul multiplies 2x2 matrices', () => {
  const c = new Float32Array(4);
  referenceKernels.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), c, {
    batch: 1,
    m: 2,
    n: 2,
    k: 2,
    transA: false,
    transB: false,
    broadcastB: false,
    accumulate: false,
    dtype: 'f32',
  });
  assert.deepEqual([...c], [19, 22, 43, 50]);
});
