/**
 * The KV-cache kernels of batched decoding (native decode.cc against the TypeScript reference):
 * storing keys/values in f32 and bf16 caches, and one decoding step's attention, which must equal
 * the last row of full causal attention and not depend on the thread count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels } from '../../src/engine/kernels/reference.js';
import type { Kernels, KvCacheArray } from '../../src/engine/kernels/types.js';
import { assertClose, randArray, rawAddon } from '../helpers.js';

const addon = rawAddon();
/** the thread count the tests that change it restore */
const threadsBefore = addon?.info().ompThreads ?? 1;
const B = 3,
  H = 2,
  D = 8,
  cap = 12,
  HD = H * D;
const lens = new Int32Array([5, 12, 1]);
type CacheType = 'f32' | 'bf16';
type DecodeKernels = Pick<Kernels, 'kvStore' | 'attentionDecode'>;
const makeCache = (type: CacheType): KvCacheArray =>
  type === 'bf16' ? new Uint16Array(B * cap * HD) : new Float32Array(B * cap * HD);

/**
 * Each sequence's full qkv [lens[b], 3*HD], stored by kvStore from a padded [B, cap, 3*HD]
 * (positions past lens[b] are zero and never visible), and each sequence's last query.
 */
function filledCaches(impl: DecodeKernels, type: CacheType) {
  const kCache = makeCache(type);
  const vCache = makeCache(type);
  const q = new Float32Array(B * 3 * HD);
  const padded = new Float32Array(B * cap * 3 * HD);
  const seqs = Array.from(lens, (T, b) => {
    const qkv = randArray(T * 3 * HD, 300 + b);
    padded.set(qkv, b * cap * 3 * HD);
    q.set(qkv.subarray((T - 1) * 3 * HD, T * 3 * HD), b * 3 * HD);
    return qkv;
  });
  impl.kvStore(padded, kCache, vCache, B, cap, HD, cap, identity, identity, new Int32Array(B));
  return { kCache, vCache, q, seqs };
}

const identity = Int32Array.from({ length: B }, (_, b) => b);

test('attentionDecode equals the last row of full causal attention, f32 and bf16 caches', () => {
  const impls: [string, DecodeKernels][] = [['reference', referenceKernels]];
  if (addon) impls.push(['native', addon]);
  for (const type of ['f32', 'bf16'] as const) {
    const outs: Float32Array[] = [];
    for (const [name, impl] of impls) {
      const { kCache, vCache, q, seqs } = filledCaches(impl, type);
      const expected = new Float32Array(B * HD);
      seqs.forEach((qkv, b) => {
        const T = lens[b]!;
        const full = new Float32Array(T * HD);
        referenceKernels.attentionForward(qkv, full, new Float32Array(H * T * 2), {
          batch: 1,
          seq: T,
          heads: H,
          headDim: D,
          causal: true,
          keyStart: null,
          dtype: 'f32',
        });
        expected.set(full.subarray((T - 1) * HD, T * HD), b * HD);
      });
      const out = new Float32Array(B * HD);
      impl.attentionDecode(q, kCache, vCache, out, B, H, D, cap, lens, identity);
      // bf16 keys/values: the output moves by about bf16's resolution (2^-8 relative)
      const [rtol, atol] = type === 'f32' ? [1e-5, 1e-6] : [2e-2, 1e-2];
      assertClose(out, expected, rtol, atol, `${name} ${type} decode vs full attention`);
      outs.push(out);
    }
    // native and reference read the same bf16 values: they agree to f32 rounding
    if (outs.length === 2)
      assertClose(outs[1]!, outs[0]!, 1e-5, 1e-6, `native vs reference ${type}`);
  }
});

test('kvStore: a forked prefill and a step at per-sequence positions, bit-exact to the reference', () => {
  if (!addon) return;
  const W = 16,
    T = 4,
    rows = 2,
    cacheB = 3,
    capS = 7;
  const qkv = randArray(rows * T * 3 * W, 41);
  const source = new Int32Array([1, 0, 1]); // sequences 0 and 2 share prefilled row 1
  const step = randArray(cacheB * 3 * W, 42);
  const pos = new Int32Array([4, 6, 5]);
  for (const type of ['f32', 'bf16'] as const) {
    const impls: DecodeKernels[] = [referenceKernels, addon];
    const caches = impls.map((impl) => {
      const k =
        type === 'bf16' ? new Uint16Array(cacheB * capS * W) : new Float32Array(cacheB * capS * W);
      const v =
        type === 'bf16' ? new Uint16Array(cacheB * capS * W) : new Float32Array(cacheB * capS * W);
      const all = new Int32Array([0, 1, 2]);
      impl.kvStore(qkv, k, v, cacheB, T, W, capS, source, all, new Int32Array(cacheB));
      // a step of the two sequences still generating: rows 0, 1 are sequences 2, 0
      impl.kvStore(step, k, v, 2, 1, W, capS, new Int32Array([0, 1]), new Int32Array([2, 0]), pos);
      return { k, v };
    });
    assert.deepEqual([...caches[1]!.k], [...caches[0]!.k], `${type} keys`);
    assert.deepEqual([...caches[1]!.v], [...caches[0]!.v], `${type} values`);
    // sequence 2 holds prefilled row 1's key of token 3 and, at position 4, step row 0's key;
    // sequence 0, at position 6, step row 1's
    const k = caches[0]!.k;
    const val = (i: number) =>
      k instanceof Uint16Array
        ? new Float32Array(new Uint32Array([k[i]! << 16]).buffer)[0]!
        : k[i]!;
    const tol = type === 'f32' ? 0 : 1e-2;
    assert.ok(Math.abs(val((2 * capS + 3) * W) - qkv[(1 * T + 3) * 3 * W + W]!) <= tol);
    assert.ok(Math.abs(val((2 * capS + 4) * W + 2) - step[0 * 3 * W + W + 2]!) <= tol);
    assert.ok(Math.abs(val((0 * capS + 6) * W + 1) - step[1 * 3 * W + W + 1]!) <= tol);
    // sequence 1 was not stepped: its position 4 stays zero
    assert.equal(val((1 * capS + 4) * W), 0);
  }
});

test('attentionDecode of a subset of rows (seqOf) equals those sequences in the full call', () => {
  const impls: DecodeKernels[] = addon ? [referenceKernels, addon] : [referenceKernels];
  for (const impl of impls) {
    const { kCache, vCache, q } = filledCaches(impl, 'f32');
    const full = new Float32Array(B * HD);
    impl.attentionDecode(q, kCache, vCache, full, B, H, D, cap, lens, identity);
    // rows: sequence 2, then sequence 0 (sequence 1 has finished)
    const pick = [2, 0];
    const qSub = new Float32Array(2 * 3 * HD);
    pick.forEach((b, r) => qSub.set(q.subarray(b * 3 * HD, (b + 1) * 3 * HD), r * 3 * HD));
    const sub = new Float32Array(2 * HD);
    const subLens = Int32Array.from(pick, (b) => lens[b]!);
    impl.attentionDecode(qSub, kCache, vCache, sub, 2, H, D, cap, subLens, Int32Array.from(pick));
    pick.forEach((b, r) =>
      assert.deepEqual(
        [...sub.subarray(r * HD, (r + 1) * HD)],
        [...full.subarray(b * HD, (b + 1) * HD)],
      ),
    );
  }
});

test('attentionDecode gives the same bits on one thread and on two', () => {
  if (!addon) return;
  const Bn = 16,
    Hn = 4,
    Dn = 32,
    capN = 64;
  const q = randArray(Bn * 3 * Hn * Dn, 7);
  const k = randArray(Bn * capN * Hn * Dn, 8);
  const v = randArray(Bn * capN * Hn * Dn, 9);
  const ln = Int32Array.from({ length: Bn }, (_, b) => 1 + ((b * 13) % capN));
  const seqOfN = Int32Array.from({ length: Bn }, (_, b) => b);
  const run = (threads: number) => {
    addon.setThreads(threads);
    const out = new Float32Array(Bn * Hn * Dn);
    addon.attentionDecode(q, k, v, out, Bn, Hn, Dn, capN, ln, seqOfN);
    return out;
  };
  addon.setSerialFlops(0); // always parallel when two threads are allowed
  try {
    assert.deepEqual([...run(2)], [...run(1)]);
  } finally {
    addon.setSerialFlops(-1);
    addon.setThreads(threadsBefore);
  }
});

test('decode kernels: bad arguments are clear errors naming them', () => {
  if (!addon) return;
  const f = (n: number) => new Float32Array(n);
  const decode =
    (
      ln: unknown,
      batch: unknown = B,
      vCache: unknown = f(B * cap * HD),
      seqOf: unknown = identity,
    ) =>
    () =>
      addon.attentionDecode(
        f(B * 3 * HD),
        f(B * cap * HD),
        vCache as Float32Array,
        f(B * HD),
        batch as number,
        H,
        D,
        cap,
        ln as Int32Array,
        seqOf as Int32Array,
      );
  assert.throws(
    decode(new Int32Array([1, 13, 1])),
    /attentionDecode: lens\[1\] = 13 is outside \[0, cap = \d+\]/,
  );
  assert.throws(decode(new Float32Array(B)), /attentionDecode: lens must be an Int32Array/);
  assert.throws(decode(new Int32Array(B - 1)), /attentionDecode: lens has \d+ elements/);
  assert.throws(
    decode(new Int32Array(B), -1),
    /attentionDecode: rows must be a non-negative integer/,
  );
  assert.throws(
    decode(new Int32Array(B), B, f(B * cap * HD), new Int32Array([0, 3, 1])),
    /attentionDecode: seqOf\[1\] = 3 is outside the cache's 3 sequences/,
  );
  // one f32 and one bf16 cache
  assert.throws(
    decode(new Int32Array(B), B, new Uint16Array(B * cap * HD)),
    /attentionDecode: vCache must be a Float32Array/,
  );
  const store =
    (source: Int32Array, start: Int32Array, seq = 1, dest = identity) =>
    () =>
      addon.kvStore(
        f(2 * seq * 3 * HD),
        f(B * cap * HD),
        f(B * cap * HD),
        B,
        seq,
        HD,
        cap,
        source,
        dest,
        start,
      );
  store(new Int32Array([0, 1, 1]), new Int32Array([0, 5, 11]))(); // valid
  assert.throws(
    store(new Int32Array([0, 2, 0]), new Int32Array(B)),
    /kvStore: source\[1\] = 2 is outside qkv's 2 rows/,
  );
  assert.throws(
    store(new Int32Array(B), new Int32Array(B), 1, new Int32Array([0, 0, 5])),
    /kvStore: dest\[2\] = 5 is outside the cache's 3 sequences/,
  );
  assert.throws(
    store(new Int32Array(B), new Int32Array([0, 0, 10]), 3),
    /kvStore: start\[2\] = 10 \+ seq 3 is outside \[0, cap = 12\]/,
  );
  assert.throws(
    () =>
      referenceKernels.kvStore(
        f(3 * HD),
        f(B * cap * HD),
        f(B * cap * HD),
        B,
        1,
        HD,
        cap,
        new Int32Array([0, 1, 0]),
        identity,
        new Int32Array(B),
      ),
    /kvStore: source\[1\] = 1 is outside qkv's 1 rows/,
  );
});

// ------------------------------------------------------------------------------- sampling

type SampleKernels = Pick<Kernels, 'sampleTokens'>;
const samplers = (): [string, SampleKernels][] =>
  addon
    ? [
        ['reference', referenceKernels],
        ['native', addon],
      ]
    : [['reference', referenceKernels]];

test('sampleTokens, worked example: the uniform picks by cumulative probability', () => {
  // one row with p = [0.25, 0.75]: u < 0.25 takes token 0, else token 1; log p exact
  const logits = new Float32Array([0, Math.log(3)]);
  for (const [name, k] of samplers()) {
    const tokens = new Int32Array(3);
    const logprobs = new Float32Array(3);
    const rowOf = new Int32Array([0, 0, 0]);
    k.sampleTokens(logits, 2, 3, rowOf, 1, new Float64Array([0.2, 0.3, 0.999]), tokens, logprobs);
    assert.deepEqual([...tokens], [0, 1, 1], name);
    assertClose(
      logprobs,
      new Float32Array([Math.log(0.25), Math.log(0.75), Math.log(0.75)]),
      1e-6,
      1e-7,
    );
    // temperature 2 flattens it: p ∝ [1, √3], so u = 0.3 now takes token 0 (p0 = 0.366)
    k.sampleTokens(logits, 2, 1, rowOf, 2, new Float64Array([0.3]), tokens, logprobs);
    assert.equal(tokens[0], 0, name);
    assertClose(
      logprobs.subarray(0, 1),
      new Float32Array([Math.log(1 / (1 + Math.sqrt(3)))]),
      1e-6,
      1e-7,
    );
    // greedy (temperature 0): the most likely, its log-probability at temperature 1
    k.sampleTokens(logits, 2, 1, rowOf, 0, new Float64Array([0]), tokens, logprobs);
    assert.equal(tokens[0], 1, name);
    assertClose(logprobs.subarray(0, 1), new Float32Array([Math.log(0.75)]), 1e-6, 1e-7);
  }
});

test('sampleTokens: native equals the reference on random rows, a subset of them, any order', () => {
  if (!addon) return;
  const V = 336,
    N = 40;
  const logits = randArray(N * V, 41).map((x) => x * 6);
  const rowOf = Int32Array.from({ length: 25 }, (_, r) => (r * 7) % N);
  const uniforms = Float64Array.from({ length: 25 }, (_, r) => ((r * 0.6180339887) % 1) * 0.999);
  for (const temperature of [1, 0.7, 1.6, 0]) {
    const run = (k: SampleKernels) => {
      const tokens = new Int32Array(25);
      const logprobs = new Float32Array(25);
      k.sampleTokens(logits, V, 25, rowOf, temperature, uniforms, tokens, logprobs);
      return { tokens, logprobs };
    };
    const ref = run(referenceKernels);
    const nat = run(addon);
    assert.deepEqual([...nat.tokens], [...ref.tokens], `temperature ${temperature}`);
    assertClose(nat.logprobs, ref.logprobs, 1e-6, 1e-7, `log-probs at temperature ${temperature}`);
    assert.ok(new Set(ref.tokens).size > 5, 'the rows sample different tokens');
  }
});

test('sampleTokens: bad arguments are clear errors naming them', () => {
  for (const [name, k] of samplers()) {
    const call =
      (rowOf: Int32Array, uniforms = new Float64Array(2), temperature = 1) =>
      () =>
        k.sampleTokens(
          new Float32Array(3 * 4),
          4,
          2,
          rowOf,
          temperature,
          uniforms,
          new Int32Array(2),
          new Float32Array(2),
        );
    call(new Int32Array([2, 0]))(); // valid
    assert.throws(
      call(new Int32Array([0, 3])),
      /sampleTokens: rowOf\[1\] = 3 is outside the logits' 3 rows/,
      name,
    );
    assert.throws(
      call(new Int32Array([0, 1]), new Float64Array(1)),
      /sampleTokens: uniforms has 1 elements/,
      name,
    );
    assert.throws(
      call(new Int32Array([0, 1]), new Float64Array(2), NaN),
      /sampleTokens: temperature must be finite/,
      name,
    );
  }
});
