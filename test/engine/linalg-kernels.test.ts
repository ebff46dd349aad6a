/**
 * Native matmul (oneDNN) and fused attention against the TypeScript reference.
 * Tolerances: f32 rtol 1e-4 / atol 1e-5 (summation order differs); bf16 compares against the
 * reference run in bf16 mode (same input rounding), rtol 2e-2 / atol 2e-2, since intermediate
 * bf16 roundings (P, dS) can land on different sides of a tie.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels } from '../../src/engine/kernels/reference.js';
import {
  ATTENTION_ROW_STATS,
  type AttentionSpec,
  type MatmulDtype,
  type MatmulSpec,
} from '../../src/engine/kernels/types.js';
import { assertClose, randArray, rawAddon } from '../helpers.js';

const addon = rawAddon();
/** the thread count the tests that change it restore */
const threadsBefore = addon?.info().ompThreads ?? 1;
const tol = (dtype: MatmulDtype): [number, number] =>
  dtype === 'f32' ? [1e-4, 1e-5] : [2e-2, 2e-2];

test('native addon is built', () => {
  assert.ok(addon, 'build/Release/visurf_native.node missing: run make build');
});

test('matmul: every transpose / broadcast / accumulate combination matches the reference', () => {
  if (!addon) return;
  let seed = 1;
  for (const dtype of ['f32', 'bf16'] as const)
    for (const transA of [false, true])
      for (const transB of [false, true])
        for (const broadcastB of [false, true])
          for (const accumulate of [false, true]) {
            const spec: MatmulSpec = {
              batch: 3,
              m: 7,
              n: 19,
              k: 33,
              transA,
              transB,
              broadcastB,
              accumulate,
              dtype,
            };
            const a = randArray(spec.batch * spec.m * spec.k, seed++);
            const b = randArray((broadcastB ? 1 : spec.batch) * spec.k * spec.n, seed++);
            const c0 = randArray(spec.batch * spec.m * spec.n, seed++);
            const cRef = c0.slice();
            const cNat = c0.slice();
            referenceKernels.matmul(a, b, cRef, spec);
            addon.matmul(a, b, cNat, spec);
            const [rtol, atol] = tol(dtype);
            assertClose(cNat, cRef, rtol, atol, `matmul ${JSON.stringify(spec)}`);
          }
});

test('matmul: a larger product that takes the blocked oneDNN path', () => {
  if (!addon) return;
  const spec: MatmulSpec = {
    batch: 1,
    m: 130,
    n: 96,
    k: 200,
    transA: false,
    transB: true,
    broadcastB: true,
    accumulate: false,
    dtype: 'f32',
  };
  const a = randArray(130 * 200, 5);
  const b = randArray(96 * 200, 6);
  const cRef = new Float32Array(130 * 96);
  const cNat = new Float32Array(130 * 96);
  referenceKernels.matmul(a, b, cRef, spec);
  addon.matmul(a, b, cNat, spec);
  assertClose(cNat, cRef, 1e-4, 1e-4, 'matmul 130x96x200');
});

test('matmul: bad arguments raise a clear TypeError, not a crash', () => {
  if (!addon) return;
  const spec: MatmulSpec = {
    batch: 1,
    m: 4,
    n: 4,
    k: 4,
    transA: false,
    transB: false,
    broadcastB: false,
    accumulate: false,
    dtype: 'f32',
  };
  assert.throws(
    () => addon.matmul(new Float32Array(15), new Float32Array(16), new Float32Array(16), spec),
    /matmul: a has 15 elements, the sizes need 16/,
  );
  // the spec's fields are checked too (they were read unchecked: a missing size was UB)
  const bad = (s: object) => () =>
    addon.matmul(new Float32Array(16), new Float32Array(16), new Float32Array(16), {
      ...spec,
      ...s,
    } as MatmulSpec);
  assert.throws(bad({ m: undefined }), /matmul: spec\.m must be a positive integer/);
  assert.throws(bad({ k: 2.5 }), /matmul: spec\.k must be a positive integer/);
  assert.throws(bad({ transA: 1 }), /matmul: spec\.transA must be a boolean/);
  assert.throws(bad({ dtype: 'f16' }), /matmul: spec\.dtype must be "f32" or "bf16"/);
  assert.throws(
    bad({ dtype: 'bf16', bBf16: new Uint16Array(3) }),
    /matmul: spec\.bBf16 has 3 elements, the sizes need 16/,
  );
  assert.throws(
    () =>
      addon.matmul(new Float32Array(16), new Float32Array(16), new Float32Array(16), null as never),
    /matmul: spec must be an object/,
  );
  assert.throws(
    () =>
      addon.matmul(
        [1, 2] as unknown as Float32Array,
        new Float32Array(16),
        new Float32Array(16),
        spec,
      ),
    /Float32Array/,
  );
});

function attentionCase(spec: AttentionSpec, seed: number): void {
  if (!addon) return;
  const { batch: B, seq: T, heads: H, headDim: D } = spec;
  const qkv = randArray(B * T * 3 * H * D, seed, 1.5);
  const dout = randArray(B * T * H * D, seed + 1);
  const outRef = new Float32Array(B * T * H * D);
  const outNat = new Float32Array(B * T * H * D);
  const sRef = new Float32Array(B * H * T * ATTENTION_ROW_STATS);
  const sNat = new Float32Array(B * H * T * ATTENTION_ROW_STATS);
  referenceKernels.attentionForward(qkv, outRef, sRef, spec);
  addon.attentionForward(qkv, outNat, sNat, spec);
  const [rtol, atol] = tol(spec.dtype);
  const what = `attention causal=${spec.causal} keyStart=${spec.keyStart} ${spec.dtype}`;
  // the row stats (score max, 1 / exp-sum) are of the rounded inputs under bf16 on both sides
  assertClose(sNat, sRef, 1e-4, 1e-6, `${what} row stats`);
  assertClose(outNat, outRef, rtol, atol, `${what} out`);
  const d0 = randArray(qkv.length, seed + 2);
  const dRef = d0.slice();
  const dNat = d0.slice();
  // each backward recomputes the probabilities from its own forward's stats
  referenceKernels.attentionBackward(qkv, sRef, dout, dRef, spec);
  addon.attentionBackward(qkv, sNat, dout, dNat, spec);
  assertClose(dNat, dRef, rtol, spec.dtype === 'f32' ? 1e-4 : 5e-2, `${what} dqkv`);
}

test('attention forward/backward match the reference (causal, bidirectional, padded keys)', () => {
  let seed = 100;
  for (const dtype of ['f32', 'bf16'] as const)
    for (const causal of [true, false])
      for (const keyStart of [null, new Int32Array([0, 3, 9])]) {
        attentionCase({ batch: 3, seq: 9, heads: 2, headDim: 8, causal, keyStart, dtype }, seed);
        seed += 10;
      }
});

test('attention: the head-dim-specialised fused paths (32, 64) match the reference', () => {
  let seed = 300;
  for (const dtype of ['f32', 'bf16'] as const)
    for (const headDim of [32, 64]) {
      attentionCase(
        {
          batch: 2,
          seq: 13,
          heads: 3,
          headDim,
          causal: true,
          keyStart: new Int32Array([0, 4]),
          dtype,
        },
        seed,
      );
      attentionCase(
        { batch: 2, seq: 11, heads: 2, headDim, causal: false, keyStart: null, dtype },
        seed + 5,
      );
      seed += 10;
    }
});

test("attention: the blocked kernels (head dims 32, 64) give the row kernels' bits, odd shapes", () => {
  if (!addon) return;
  // seq lengths around the 8/4-row blocks and 32-key tiles; a sequence whose keys start late and
  // one that sees no key at all; backward accumulates into a non-zero dqkv
  let seed = 500;
  for (const headDim of [32, 64])
    for (const seq of [1, 5, 8, 31, 33, 70])
      for (const causal of [true, false])
        for (const dtype of ['f32', 'bf16'] as const) {
          const spec: AttentionSpec = {
            batch: 3,
            seq,
            heads: 2,
            headDim,
            causal,
            keyStart: new Int32Array([0, Math.floor(seq / 3), seq + 2]),
            dtype,
          };
          const n = 3 * seq * 3 * 2 * headDim;
          const qkv = randArray(n, seed++, 1.5);
          const dout = randArray(n / 3, seed++);
          const start = randArray(n, seed++);
          const run = (blocked: boolean) => {
            addon.setBlockedAttention(blocked);
            const out = new Float32Array(n / 3);
            const stats = new Float32Array(3 * 2 * seq * ATTENTION_ROW_STATS);
            addon.attentionForward(qkv, out, stats, spec);
            const dqkv = Float32Array.from(start);
            addon.attentionBackward(qkv, stats, dout, dqkv, spec);
            return { out, stats, dqkv };
          };
          try {
            const rows = run(false);
            const blocked = run(true);
            const what = `headDim ${headDim}, seq ${seq}, ${causal ? 'causal' : 'bidirectional'}, ${dtype}`;
            for (const k of ['out', 'stats', 'dqkv'] as const)
              assert.ok(
                Buffer.from(blocked[k].buffer).equals(Buffer.from(rows[k].buffer)),
                `${k} differs: ${what}`,
              );
          } finally {
            addon.setBlockedAttention(true);
          }
        }
});

test('attention: a call above the one-thread bar (both threads) matches the reference and the dense oneDNN kernels', () => {
  if (!addon) return;
  // 4·B·H·T²·D = 2^27 flops: the fused kernel splits (sequence, head) tasks over the threads.
  const spec: AttentionSpec = {
    batch: 16,
    seq: 128,
    heads: 4,
    headDim: 32,
    causal: true,
    keyStart: null,
    dtype: 'f32',
  };
  attentionCase(spec, 400);
  const { batch: B, seq: T, heads: H, headDim: D } = spec;
  const qkv = randArray(B * T * 3 * H * D, 401, 1.5);
  const dout = randArray(B * T * H * D, 402);
  const fused = {
    out: new Float32Array(B * T * H * D),
    stats: new Float32Array(B * H * T * ATTENTION_ROW_STATS),
    d: new Float32Array(qkv.length),
  };
  const dense = {
    out: new Float32Array(B * T * H * D),
    p: new Float32Array(B * H * T * T),
    d: new Float32Array(qkv.length),
  };
  const raw = addon as unknown as Record<string, (...args: unknown[]) => void>;
  addon.attentionForward(qkv, fused.out, fused.stats, spec);
  raw.attentionForwardOnednn!(qkv, dense.out, dense.p, spec);
  addon.attentionBackward(qkv, fused.stats, dout, fused.d, spec);
  raw.attentionBackwardOnednn!(qkv, dense.p, dout, dense.d, spec);
  // the dense kernels save the probabilities: row r's are exp(s - max) · inv from fused's stats
  const r = 5 * T + 7; // row 7 of the sixth (sequence, head): it sees 8 keys
  const [max, inv] = [fused.stats[2 * r]!, fused.stats[2 * r + 1]!];
  assert.ok(max > -Infinity && inv > 0 && inv <= 1);
  assert.ok(Math.abs(dense.p.subarray(r * T, r * T + 8).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assertClose(fused.out, dense.out, 1e-4, 1e-5, 'fused vs dense out');
  assertClose(fused.d, dense.d, 1e-4, 1e-4, 'fused vs dense dqkv');
});

test('attention: a fully masked query row outputs zeros', () => {
  if (!addon) return;
  const spec: AttentionSpec = {
    batch: 1,
    seq: 4,
    heads: 1,
    headDim: 4,
    causal: true,
    keyStart: new Int32Array([2]),
    dtype: 'f32',
  };
  const qkv = randArray(4 * 3 * 4, 7);
  const out = new Float32Array(16).fill(9);
  const stats = new Float32Array(4 * ATTENTION_ROW_STATS).fill(9);
  addon.attentionForward(qkv, out, stats, spec);
  assert.deepEqual([...out.subarray(0, 8)], new Array(8).fill(0));
  // rows 0 and 1 see no key: stats 0, 0; rows 2 and 3 a max and 1 / exp-sum
  assert.deepEqual([...stats.subarray(0, 4)], [0, 0, 0, 0]);
  assert.ok(stats[5]! > 0 && stats[5]! <= 1 && stats[7]! > 0 && stats[7]! <= 1);
});

test('attention: a spec with a wrong field is a clear error naming it', () => {
  if (!addon) return;
  const spec: AttentionSpec = {
    batch: 2,
    seq: 3,
    heads: 2,
    headDim: 4,
    causal: true,
    keyStart: null,
    dtype: 'f32',
  };
  const f = (n: number) => new Float32Array(n);
  const call = (s: object) => () =>
    addon.attentionForward(f(2 * 3 * 3 * 8), f(2 * 3 * 8), f(2 * 2 * 3 * 2), {
      ...spec,
      ...s,
    } as AttentionSpec);
  call({})(); // the good spec runs
  assert.throws(call({ heads: 0 }), /attentionForward: spec\.heads must be a positive integer/);
  assert.throws(
    call({ keyStart: new Int32Array(1) }),
    /attentionForward: spec\.keyStart has 1 elements, the sizes need 2/,
  );
  assert.throws(
    call({ keyStart: new Float32Array(2) }),
    /attentionForward: spec\.keyStart must be an Int32Array or null/,
  );
  assert.throws(
    () => addon.attentionForward(f(10), f(2 * 3 * 8), f(2 * 2 * 9), spec),
    /attentionForward: qkv has 10 elements, the sizes need 144/,
  );
});

test('matmul: a pre-converted bf16 B (cached weight) gives the same product as converting b', () => {
  if (!addon) return;
  for (const transB of [false, true]) {
    const spec: MatmulSpec = {
      batch: 1,
      m: 9,
      n: 21,
      k: 35,
      transA: false,
      transB,
      broadcastB: false,
      accumulate: true,
      dtype: 'bf16',
    };
    const a = randArray(9 * 35, 11);
    const b = randArray(21 * 35, 12);
    const b16 = new Uint16Array(b.length);
    addon.toBf16(b, b16, b.length);
    const c0 = randArray(9 * 21, 13);
    const plain = c0.slice();
    const cached = c0.slice();
    const ref = c0.slice();
    addon.matmul(a, b, plain, spec);
    // b itself is ignored when bBf16 is given: pass zeros to prove it.
    addon.matmul(a, new Float32Array(b.length), cached, { ...spec, bBf16: b16 });
    referenceKernels.matmul(a, new Float32Array(b.length), ref, { ...spec, bBf16: b16 });
    assertClose(cached, plain, 0, 0, `bf16 cached B, transB=${transB}`);
    assertClose(ref, plain, 2e-2, 2e-2, `reference with bf16 cached B, transB=${transB}`);
  }
});

test('matmul: a product above the one-thread bar (2^27 flops) runs on both threads and matches', () => {
  if (!addon) return;
  const spec: MatmulSpec = {
    batch: 1,
    m: 520,
    n: 384,
    k: 352,
    transA: false,
    transB: true,
    broadcastB: false,
    accumulate: false,
    dtype: 'f32',
  };
  const a = randArray(520 * 352, 21);
  const b = randArray(384 * 352, 22);
  const cRef = new Float32Array(520 * 384);
  const cNat = new Float32Array(520 * 384);
  referenceKernels.matmul(a, b, cRef, spec);
  addon.matmul(a, b, cNat, spec);
  assertClose(cNat, cRef, 1e-4, 1e-4, 'matmul 520x384x352');
});

test('matmul between the one-thread bars: the same bits on idle and on shared cores', () => {
  if (!addon) return;
  // 128 x 704 x 256 = 46 MFLOP: a decoding step's product, run as two row halves that go on two
  // threads on idle cores and one after the other on shared ones (src/native/threads.h)
  const m = 128,
    n = 256,
    k = 704;
  const a = randArray(m * k, 71);
  const w = randArray(n * k, 72);
  const start = randArray(m * n, 73);
  for (const dtype of ['f32', 'bf16'] as const)
    for (const accumulate of [false, true]) {
      const spec: MatmulSpec = {
        batch: 1,
        m,
        n,
        k,
        transA: false,
        transB: true,
        broadcastB: false,
        accumulate,
        dtype,
      };
      const run = (mode: 0 | 1) => {
        addon.setCoresShared(mode);
        const c = start.slice();
        addon.matmul(a, w, c, spec);
        return c;
      };
      try {
        const idle = run(0);
        assert.deepEqual([...idle], [...run(1)], `${dtype} accumulate=${accumulate}`);
        // and on one thread (the halves one after the other)
        addon.setThreads(1);
        const one = run(0);
        addon.setThreads(threadsBefore);
        assert.deepEqual([...idle], [...one], `${dtype} accumulate=${accumulate}, one thread`);
        const expected = start.slice();
        referenceKernels.matmul(a, w, expected, spec);
        assertClose(idle, expected, ...tol(dtype), `${dtype} vs reference`);
      } finally {
        addon.setCoresShared(-1);
        addon.setThreads(threadsBefore);
      }
    }
  assert.throws(() => addon.setCoresShared(2 as 0), /setCoresShared: mode must be -1, 0 or 1/);
});
