/**
 * End to end: a 2-layer pre-norm transformer built from engine ops (embedding, RMSNorm, fused
 * QKV + RoPE, causal attention, SwiGLU, untied head) learns to copy a random digit string, with
 * AdamW, grad clipping and a warmup-cosine schedule, to near-zero loss. Runs on the active
 * kernels (native when built).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW,
  Tensor,
  add,
  attention,
  backward,
  crossEntropy,
  embedding,
  linear,
  rmsnorm,
  rope,
  swiglu,
  warmupCosineLr,
  withMatmulDtype,
  type MatmulDtype,
} from '../../src/engine/index.js';
import type { BlockParams } from '../../src/model/vlm.js';
import { randArray, rng } from '../helpers.js';

const VOCAB = 12; // digits 0-9, SEP = 10, BOS = 11
const SEP = 10;
const BOS = 11;
const N = 6; // digits to copy
const T = 2 * N + 2; // BOS x SEP x

function makeModel(d: number, hidden: number, layers: number, seed: number) {
  let s = seed;
  const w = (shape: number[], fanIn: number) =>
    Tensor.param(randArray(shape[0]! * shape[1]!, s++, Math.sqrt(3 / fanIn)), shape);
  const ones = (n: number) => Tensor.param(new Float32Array(n).fill(1), [n]);
  const blocks: BlockParams[] = [];
  for (let l = 0; l < layers; l++) {
    blocks.push({
      norm1: ones(d),
      qkv: w([3 * d, d], d),
      out: w([d, d], d * 2 * layers),
      norm2: ones(d),
      w13: w([2 * hidden, d], d),
      w2: w([d, hidden], hidden * 2 * layers),
    });
  }
  const embed = w([VOCAB, d], 1);
  const finalNorm = ones(d);
  const head = w([VOCAB, d], d);
  const params = [embed, finalNorm, head, ...blocks.flatMap((b) => Object.values(b))];
  return { blocks, embed, finalNorm, head, params };
}

function forward(
  m: ReturnType<typeof makeModel>,
  ids: Int32Array,
  B: number,
  heads: number,
): Tensor {
  const d = m.embed.dim(1);
  const positions = new Int32Array(B * T).map((_, i) => i % T);
  let x = embedding(m.embed, ids, [B, T]);
  for (const b of m.blocks) {
    const qkv = rope(linear(rmsnorm(x, b.norm1), b.qkv), positions, {
      vecsPerRow: 3 * heads,
      rotated: 2 * heads,
      headDim: d / heads,
    });
    x = add(x, linear(attention(qkv, { heads, causal: true }), b.out));
    x = add(x, linear(swiglu(linear(rmsnorm(x, b.norm2), b.w13)), b.w2));
  }
  return linear(rmsnorm(x, m.finalNorm), m.head);
}

function batch(B: number, r: () => number): { ids: Int32Array; targets: Int32Array } {
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T).fill(-1);
  for (let b = 0; b < B; b++) {
    const o = b * T;
    ids[o] = BOS;
    ids[o + N + 1] = SEP;
    for (let i = 0; i < N; i++) {
      const digit = Math.floor(r() * 10);
      ids[o + 1 + i] = digit;
      ids[o + N + 2 + i] = digit;
    }
    // Predict the copied digits: position p predicts token p+1 in the second half.
    for (let p = N + 1; p < T - 1; p++) targets[o + p] = ids[o + p + 1]!;
  }
  return { ids, targets };
}

function trainCopy(dtype: MatmulDtype): { first: number; last: number; accuracy: number } {
  return withMatmulDtype(dtype, () => {
    const heads = 4;
    const m = makeModel(64, 128, 2, 7);
    const opt = new AdamW(m.params, { lr: 3e-3, weightDecay: 0.01, maxGradNorm: 1 });
    const r = rng(123);
    const steps = 300;
    let first = NaN;
    let last = NaN;
    for (let step = 0; step < steps; step++) {
      const { ids, targets } = batch(32, r);
      const loss = crossEntropy(forward(m, ids, 32, heads), targets);
      opt.zeroGrad();
      backward(loss);
      opt.step(warmupCosineLr(step, { baseLr: 3e-3, warmupSteps: 20, totalSteps: steps }));
      if (step === 0) first = loss.item();
      last = loss.item();
    }
    // Greedy accuracy on fresh strings, teacher-forced.
    const { ids, targets } = batch(64, rng(999));
    const logits = forward(m, ids, 64, heads);
    let right = 0;
    let total = 0;
    for (let row = 0; row < targets.length; row++) {
      if (targets[row]! < 0) continue;
      const l = logits.data.subarray(row * VOCAB, (row + 1) * VOCAB);
      let best = 0;
      for (let j = 1; j < VOCAB; j++) if (l[j]! > l[best]!) best = j;
      right += best === targets[row]! ? 1 : 0;
      total++;
    }
    return { first, last, accuracy: right / total };
  });
}

for (const dtype of ['f32', 'bf16'] as const) {
  test(`a 2-layer transformer learns to copy digits (${dtype} matmuls)`, () => {
    const { first, last, accuracy } = trainCopy(dtype);
    assert.ok(first > 2, `initial loss ${first} should be near ln(12) = 2.48`);
    assert.ok(last < 0.05, `final loss ${last} should be near zero`);
    assert.ok(accuracy > 0.99, `copy accuracy ${accuracy}`);
  });
}
