/**
 * Finite-difference gradient checks of every differentiable op, on the reference kernels and
 * (when built) on the native kernels. Each op's output is reduced to a scalar with random
 * weights, so every output element's gradient path is exercised.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor,
  add,
  attention,
  concat,
  conv2d,
  crossEntropy,
  gelu,
  embedding,
  gradcheck,
  linear,
  matmul,
  mean,
  mul,
  reshape,
  rmsnorm,
  rope,
  scale,
  setKernels,
  silu,
  slice,
  softmax,
  sum,
  swiglu,
  tokenLogprobs,
  transpose,
  weightedSum,
} from '../../src/engine/index.js';
import { referenceKernels } from '../../src/engine/kernels/reference.js';
import { loadNativeAddon, nativeKernels } from '../../src/engine/kernels/native.js';
import type { Kernels } from '../../src/engine/kernels/types.js';
import { randArray } from '../helpers.js';

function param(shape: number[], seed: number, s = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.param(randArray(n, seed, s), shape);
}

/** Scalar = Σ w_i y_i with fixed random weights. */
function project(y: Tensor, seed: number): Tensor {
  return weightedSum(y, randArray(y.size, seed));
}

function check(name: string, f: () => Tensor, inputs: Tensor[], opts = {}): void {
  const r = gradcheck(f, inputs, opts);
  assert.ok(
    r.worst <= 1,
    `${name}: gradient mismatch ${r.worst.toFixed(2)}x tolerance at ${r.where}`,
  );
}

const kernelSets: Array<[string, () => Kernels | null]> = [
  ['reference', () => referenceKernels],
  [
    'native',
    () => {
      try {
        return nativeKernels(loadNativeAddon());
      } catch {
        return null;
      }
    },
  ],
];

for (const [label, get] of kernelSets) {
  describe(`gradients (${label} kernels)`, () => {
    const K = get();
    if (!K) {
      test('native kernels unavailable', { skip: 'addon not built' }, () => {});
      return;
    }
    const use = () => setKernels(K);

    test('matmul: plain, transposed, batched, broadcast weight', () => {
      use();
      let seed = 1;
      for (const transA of [false, true])
        for (const transB of [false, true])
          for (const bcast of [false, true]) {
            const a = param(transA ? [2, 4, 3] : [2, 3, 4], seed++);
            const b = param(
              bcast ? (transB ? [5, 4] : [4, 5]) : transB ? [2, 5, 4] : [2, 4, 5],
              seed++,
            );
            check(
              `matmul tA=${transA} tB=${transB} bcast=${bcast}`,
              () => project(matmul(a, b, { transA, transB }), 99),
              [a, b],
            );
          }
    });

    test('linear', () => {
      use();
      const x = param([2, 3, 6], 10);
      const w = param([5, 6], 11);
      check('linear', () => project(linear(x, w), 12), [x, w]);
    });

    test('add (same shape and broadcast), mul, scale, silu', () => {
      use();
      const a = param([3, 4], 20);
      const b = param([3, 4], 21);
      const c = param([4], 22);
      check('add', () => project(add(a, b), 23), [a, b]);
      check('add broadcast', () => project(add(a, c), 24), [a, c]);
      check('mul', () => project(mul(a, b), 25), [a, b]);
      check('scale', () => project(scale(a, -1.7), 26), [a]);
      check('silu', () => project(silu(a), 27), [a]);
      check('a used twice', () => project(mul(a, a), 28), [a]);
    });

    test('conv2d (stride 1/2, padding 0/1, 1x1 and non-square kernels, bias), gelu', () => {
      use();
      let seed = 200;
      const cases: Array<[number[], number[], number, number, boolean]> = [
        // [x shape NHWC, w shape OHWI, stride, padding, bias]
        [[2, 5, 4, 3], [4, 3, 3, 3], 1, 1, true],
        [[1, 7, 6, 2], [3, 3, 3, 2], 2, 1, true],
        [[2, 4, 5, 3], [2, 1, 1, 3], 1, 0, false],
        [[1, 6, 5, 2], [3, 3, 2, 2], 2, 0, true],
      ];
      for (const [xs, ws, stride, padding, withBias] of cases) {
        const x = param(xs, seed++);
        const w = param(ws, seed++, 0.5);
        const b = withBias ? param([ws[0]!], seed++) : null;
        check(
          `conv2d x=${xs} w=${ws} s=${stride} p=${padding}`,
          () => project(conv2d(x, w, b, { stride, padding }), 99),
          b ? [x, w, b] : [x, w],
        );
      }
      const a = param([3, 7], 210, 2);
      check('gelu', () => project(gelu(a), 211), [a]);
    });

    test('reshape, transpose, concat, slice', () => {
      use();
      const a = param([2, 3, 4], 30);
      const b = param([2, 2, 4], 31);
      check('reshape', () => project(reshape(a, [6, -1]), 32), [a]);
      check('transpose', () => project(transpose(a, 0, 2), 33), [a]);
      check('transpose inner', () => project(transpose(a, 1, 2), 34), [a]);
      check('concat', () => project(concat([a, b], 1), 35), [a, b]);
      check('slice', () => project(slice(a, 2, 1, 3), 36), [a]);
    });

    test('embedding (repeated ids accumulate)', () => {
      use();
      const table = param([7, 5], 40);
      const ids = new Int32Array([1, 3, 3, 6, 0, 1]);
      check('embedding', () => project(embedding(table, ids, [2, 3]), 41), [table]);
    });

    test('rmsnorm', () => {
      use();
      const x = param([5, 12], 50, 2);
      const w = param([12], 51);
      check('rmsnorm', () => project(rmsnorm(x, w, 1e-6), 52), [x, w]);
    });

    test('rope on a fused qkv row (q, k rotated; v passed through)', () => {
      use();
      const heads = 2;
      const headDim = 8;
      const x = param([2, 3, 3 * heads * headDim], 60);
      const pos = new Int32Array([0, 1, 2, 5, 6, 7]);
      check(
        'rope',
        () => project(rope(x, pos, { vecsPerRow: 3 * heads, rotated: 2 * heads, headDim }), 61),
        [x],
      );
    });

    test('swiglu, softmax', () => {
      use();
      const h = param([4, 10], 70, 2);
      check('swiglu', () => project(swiglu(h), 71), [h]);
      check('softmax', () => project(softmax(h), 72), [h]);
    });

    test('attention: causal, bidirectional, left-padded keys', () => {
      use();
      const heads = 2;
      const headDim = 4;
      for (const causal of [true, false]) {
        for (const keyStart of [null, new Int32Array([0, 2])]) {
          const qkv = param([2, 5, 3 * heads * headDim], 80);
          check(
            `attention causal=${causal} keyStart=${keyStart}`,
            () => project(attention(qkv, { heads, causal, keyStart }), 81),
            [qkv],
          );
        }
      }
    });

    test('token log-probs, entropy, cross-entropy, reductions', () => {
      use();
      const logits = param([6, 9], 90, 2);
      const targets = new Int32Array([0, 8, 3, -1, 4, 4]);
      check('logp', () => project(tokenLogprobs(logits, targets).logp, 91), [logits]);
      check('entropy', () => project(tokenLogprobs(logits, targets, true).entropy!, 92), [logits]);
      check(
        'logp + entropy',
        () => {
          const { logp, entropy } = tokenLogprobs(logits, targets, true);
          return add(project(logp, 93), project(entropy!, 94));
        },
        [logits],
      );
      check('crossEntropy', () => crossEntropy(logits, targets), [logits]);
      check('sum', () => sum(mul(logits, logits)), [logits]);
      check('mean', () => mean(mul(logits, logits)), [logits]);
    });
  });
}

describe('gradients (reference kernels): gatherRows', () => {
  test('gatherRows with repeated rows', async () => {
    setKernels(referenceKernels);
    const { gatherRows } = await import('../../src/engine/index.js');
    const x = param([3, 2, 2], 200);
    check('gatherRows', () => project(gatherRows(x, new Int32Array([2, 0, 2, 1])), 201), [x]);
  });
});
