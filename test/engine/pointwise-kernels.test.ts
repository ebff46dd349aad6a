/**
 * Pointwise / normalisation / log-prob / optimizer kernels: native (C++ addon) against the
 * TypeScript reference, finite-difference checks of every reference backward, worked examples,
 * bf16 rounding cases and argument checking.
 *
 * Tolerances (f32 native vs f64-accumulating reference):
 * - RTOL = 1e-5: per element |native - ref| <= RTOL * |ref| + 0.1 * RTOL * max|ref|. The small
 *   max|ref| term allows for values that come out of a cancellation (e.g. dx of rmsnorm or
 *   softmax), whose error is relative to the size of the terms, not of the result. Passes on
 *   30 random seeds (VISURF_TEST_SEED); a 3x tighter bound fails on 1 of them.
 * - 1e-6 purely relative: the vectorised exp, through silu and 2-way softmax, over [-80, 80].
 * - bit-exact: embedding, add/mul (single rounding either way), bf16 casts, countNonFinite.
 * - 1e-12 relative: sumSquares (both accumulate in f64; only the summation order differs).
 * - finite differences of the reference: central differences with eps = 1e-3 on f32 data,
 *   |numeric - analytic| <= 1e-2 * (|analytic| + 0.1 max|analytic|).
 *
 * The addon is loaded directly (not via loadNativeAddon) because the native matmul/attention
 * live in another file and may not be registered yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { addonPath } from '../../src/engine/kernels/native.js';
import { rng } from '../helpers.js';
import { referenceKernels } from '../../src/engine/kernels/reference.js';
import { roundBf16 } from '../../src/engine/kernels/reference/linalg.js';
import type { PointwiseKernels } from '../../src/engine/kernels/reference/pointwise.js';

const native = createRequire(import.meta.url)(addonPath()) as PointwiseKernels;
const ref: PointwiseKernels = referenceKernels;

const RTOL = 1e-5;

// ------------------------------------------------------------------------------------ helpers

// Fixed seed so failures reproduce; VISURF_TEST_SEED=n tries another draw.
const rand = rng(Number(process.env.VISURF_TEST_SEED ?? 12345));
function randn(): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
function randArray(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = randn() * scale;
  return a;
}
function randInts(n: number, lo: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(rand() * (hi - lo));
  return a;
}
const copy = (a: Float32Array): Float32Array => new Float32Array(a);

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** |actual - expected| <= rtol * |expected| + 0.1 * rtol * max|expected|, per element. */
function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
  rtol = RTOL,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = maxAbs(expected);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const tol = rtol * Math.abs(e) + 0.1 * rtol * scale;
    if (!(Math.abs(a - e) <= tol)) {
      assert.fail(
        `${what}: element ${i}: native ${a} vs reference ${e} (tol ${tol.toExponential(2)})`,
      );
    }
  }
}

function assertBitEqual(
  actual: Float32Array | Uint16Array,
  expected: typeof actual,
  what: string,
): void {
  const bits = (x: typeof actual) =>
    x instanceof Float32Array ? new Uint32Array(x.buffer, x.byteOffset, x.length) : x;
  const a = bits(actual);
  const e = bits(expected);
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) {
      assert.fail(`${what}: element ${i}: 0x${a[i]!.toString(16)} vs 0x${e[i]!.toString(16)}`);
    }
  }
}

/** Run `f` on both kernel sets with private copies of the given buffers; return both copies. */
function both(bufs: Float32Array[], f: (k: PointwiseKernels, b: Float32Array[]) => void) {
  const rb = bufs.map(copy);
  const nb = bufs.map(copy);
  f(ref, rb);
  f(native, nb);
  return { rb, nb };
}

// Shapes [rows, dim]: one row, odd dims (not a multiple of 16), and big enough for OpenMP
// (rows * dim > 16384).
const SHAPES: Array<[number, number]> = [
  [1, 1],
  [1, 7],
  [3, 17],
  [5, 256],
  [129, 333],
];

// ------------------------------------------------------------------------------------ rmsnorm

test('rmsnorm forward/backward: native matches reference, backward accumulates', () => {
  for (const [rows, dim] of SHAPES) {
    const x = randArray(rows * dim, 2);
    const w = randArray(dim);
    const tag = `rmsnorm ${rows}x${dim}`;
    const f = both([new Float32Array(rows * dim), new Float32Array(rows)], (k, [y, rstd]) =>
      k.rmsnormForward(x, w, y!, rstd!, rows, dim, 1e-5),
    );
    assertClose(f.nb[0]!, f.rb[0]!, `${tag} y`);
    assertClose(f.nb[1]!, f.rb[1]!, `${tag} rstd`);

    const rstd = f.rb[1]!;
    const dy = randArray(rows * dim);
    const dx0 = randArray(rows * dim); // pre-filled: the kernel must add to it
    const dw0 = randArray(dim);
    const b = both([dx0, dw0], (k, [dx, dw]) =>
      k.rmsnormBackward(x, w, rstd, dy, dx!, dw!, rows, dim),
    );
    assertClose(b.nb[0]!, b.rb[0]!, `${tag} dx`);
    assertClose(b.nb[1]!, b.rb[1]!, `${tag} dw`);
    // accumulate: the result minus the pre-fill equals a run into zeroed buffers
    const z = both([new Float32Array(rows * dim), new Float32Array(dim)], (k, [dx, dw]) =>
      k.rmsnormBackward(x, w, rstd, dy, dx!, dw!, rows, dim),
    );
    assertClose(
      b.nb[0]!,
      dx0.map((v, i) => v + z.nb[0]![i]!),
      `${tag} dx accumulates`,
    );
    assertClose(
      b.nb[1]!,
      dw0.map((v, i) => v + z.nb[1]![i]!),
      `${tag} dw accumulates`,
    );
  }
});

// ------------------------------------------------------------------------------------ rope

test('rope forward and inverse: native matches reference (partial rotation, in place)', () => {
  const cases: Array<[number, number, number, number, number]> = [
    // rows, vecsPerRow, rotated, headDim, max position
    [1, 1, 1, 2, 10],
    [3, 3, 2, 18, 5000], // positions spread wider than rows: per-row angles
    [4, 2, 0, 8, 3], // nothing rotated
    [200, 3, 2, 64, 50], // OpenMP, repeated positions: the cos/sin table path
  ];
  for (const [rows, vecs, rotated, headDim, maxPos] of cases) {
    const n = rows * vecs * headDim;
    const tag = `rope ${rows}x${vecs}(${rotated})x${headDim}`;
    const x = randArray(n);
    const pos = randInts(rows, 0, maxPos);
    const f = both([new Float32Array(n)], (k, [y]) =>
      k.rope(x, y!, pos, rows, vecs, rotated, headDim, 10000, false),
    );
    assertClose(f.nb[0]!, f.rb[0]!, `${tag} forward`);
    // unrotated vectors are copied exactly
    for (let r = 0; r < rows; r++) {
      for (let v = rotated; v < vecs; v++) {
        const o = (r * vecs + v) * headDim;
        for (let i = 0; i < headDim; i++) assert.equal(f.nb[0]![o + i], x[o + i]);
      }
    }
    const y0 = randArray(n);
    const b = both([y0], (k, [y]) => k.rope(x, y!, pos, rows, vecs, rotated, headDim, 10000, true));
    assertClose(b.nb[0]!, b.rb[0]!, `${tag} inverse (accumulating)`);
    // inverse undoes forward: R^T R x = x
    const back = new Float32Array(n);
    native.rope(f.nb[0]!, back, pos, rows, vecs, rotated, headDim, 10000, true);
    assertClose(back, x, `${tag} R^T R = I`, 1e-5);
    // in place forward (y aliases x)
    const inPlace = copy(x);
    native.rope(inPlace, inPlace, pos, rows, vecs, rotated, headDim, 10000, false);
    assertClose(inPlace, f.rb[0]!, `${tag} in place`);
  }
});

// ------------------------------------------------------------------------------------ swiglu

test('swiglu forward/backward: native matches reference, backward accumulates', () => {
  for (const [rows, hidden] of SHAPES) {
    const tag = `swiglu ${rows}x${hidden}`;
    const h = randArray(rows * 2 * hidden, 3);
    const f = both([new Float32Array(rows * hidden)], (k, [out]) =>
      k.swigluForward(h, out!, rows, hidden),
    );
    assertClose(f.nb[0]!, f.rb[0]!, `${tag} out`);
    const dout = randArray(rows * hidden);
    const b = both([randArray(rows * 2 * hidden)], (k, [dh]) =>
      k.swigluBackward(h, dout, dh!, rows, hidden),
    );
    assertClose(b.nb[0]!, b.rb[0]!, `${tag} dh`);
  }
  // saturated gates: sigmoid of large |g| must not overflow to NaN
  const h = new Float32Array([-200, -90, 0, 90, 200, 1, 1, 1, 1, 1]);
  const out = new Float32Array(5);
  native.swigluForward(h, out, 1, 5);
  assertClose(out, new Float32Array([-0, -0, 0, 90, 200]), 'swiglu saturated');
});

test('the vectorised exp is accurate to ~1e-6 relative over its whole range', () => {
  // For g << 0, silu(g) = g / (1 + e^-g) ~ g e^g, and for a row [0, x] the softmax gives
  // e^x / (1 + e^x): both carry exp's relative error straight into the output, so compare with a
  // purely relative tolerance (no max-based slack) over arguments in [-80, 80].
  const n = 4001;
  const h = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    h[i] = -80 + (160 * i) / (n - 1);
    h[n + i] = 1;
  }
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  native.swigluForward(h, a, 1, n);
  ref.swigluForward(h, b, 1, n);
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) x[2 * i + 1] = h[i]!;
  const ya = new Float32Array(2 * n);
  const yb = new Float32Array(2 * n);
  native.softmaxForward(x, ya, n, 2);
  ref.softmaxForward(x, yb, n, 2);
  for (let i = 0; i < n; i++) {
    const ok1 = Math.abs(a[i]! - b[i]!) <= 1e-6 * Math.abs(b[i]!);
    assert.ok(ok1, `silu(${h[i]}): native ${a[i]} vs ${b[i]}`);
    const ok2 = Math.abs(ya[2 * i + 1]! - yb[2 * i + 1]!) <= 1e-6 * yb[2 * i + 1]!;
    assert.ok(ok2, `softmax [0, ${h[i]}]: native ${ya[2 * i + 1]} vs ${yb[2 * i + 1]}`);
  }
});

// ------------------------------------------------------------------------------------ softmax

test('softmax forward/backward: native matches reference, backward accumulates', () => {
  for (const [rows, dim] of SHAPES) {
    const tag = `softmax ${rows}x${dim}`;
    const x = randArray(rows * dim, 5);
    const f = both([new Float32Array(rows * dim)], (k, [y]) => k.softmaxForward(x, y!, rows, dim));
    assertClose(f.nb[0]!, f.rb[0]!, `${tag} y`);
    const dy = randArray(rows * dim);
    const b = both([randArray(rows * dim)], (k, [dx]) =>
      k.softmaxBackward(f.rb[0]!, dy, dx!, rows, dim),
    );
    assertClose(b.nb[0]!, b.rb[0]!, `${tag} dx`);
  }
  // huge logits: stable (max subtracted), and a -Infinity logit gets probability 0
  const y = new Float32Array(3);
  native.softmaxForward(new Float32Array([1000, 1000, -Infinity]), y, 1, 3);
  assertClose(y, new Float32Array([0.5, 0.5, 0]), 'softmax stable');
  assert.equal(y[2], 0);
});

// ------------------------------------------------------------------------------------ logprob

test('logprob forward/backward: native matches reference (ignored rows, entropy)', () => {
  for (const [rows, vocab] of [
    [1, 1],
    [1, 7],
    [4, 17],
    [6, 320],
    [100, 333],
  ] as const) {
    const tag = `logprob ${rows}x${vocab}`;
    const logits = randArray(rows * vocab, 4);
    const targets = randInts(rows, 0, vocab);
    if (rows > 1) targets[1] = -1; // ignored position
    if (rows > 3) targets[3] = -100;
    for (const withEntropy of [false, true]) {
      const outs = [new Float32Array(rows), new Float32Array(rows), new Float32Array(rows)];
      const f = both(outs, (k, [logp, lse, ent]) =>
        k.logprobForward(logits, targets, logp!, lse!, withEntropy ? ent! : null, rows, vocab),
      );
      assertClose(f.nb[0]!, f.rb[0]!, `${tag} logp`);
      assertClose(f.nb[1]!, f.rb[1]!, `${tag} lse`);
      if (withEntropy) assertClose(f.nb[2]!, f.rb[2]!, `${tag} entropy`);
      for (let r = 0; r < rows; r++) if (targets[r]! < 0) assert.equal(f.nb[0]![r], 0);
    }
    const logp = new Float32Array(rows);
    const lse = new Float32Array(rows);
    const ent = new Float32Array(rows);
    ref.logprobForward(logits, targets, logp, lse, ent, rows, vocab);
    const dlogp = randArray(rows);
    const dent = randArray(rows);
    for (const [useLogp, useEnt] of [
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const b = both([randArray(rows * vocab)], (k, [dl]) =>
        k.logprobBackward(
          logits,
          targets,
          lse,
          useEnt ? ent : null,
          useLogp ? dlogp : null,
          useEnt ? dent : null,
          dl!,
          rows,
          vocab,
        ),
      );
      assertClose(b.nb[0]!, b.rb[0]!, `${tag} dlogits (logp ${useLogp}, entropy ${useEnt})`);
    }
    // an ignored row gets no logp gradient at all
    if (rows > 1) {
      const dl = new Float32Array(rows * vocab);
      native.logprobBackward(logits, targets, lse, null, dlogp, null, dl, rows, vocab);
      for (let j = 0; j < vocab; j++) assert.equal(dl[vocab + j], 0);
    }
  }
});

test('logprob: known values (uniform logits)', () => {
  const vocab = 4;
  const logp = new Float32Array(2);
  const lse = new Float32Array(2);
  const ent = new Float32Array(2);
  native.logprobForward(
    new Float32Array(8).fill(3),
    new Int32Array([2, -1]),
    logp,
    lse,
    ent,
    2,
    vocab,
  );
  assertClose(logp, new Float32Array([-Math.log(4), 0]), 'logp');
  assertClose(lse, new Float32Array([3 + Math.log(4), 3 + Math.log(4)]), 'lse');
  assertClose(ent, new Float32Array([Math.log(4), Math.log(4)]), 'entropy');
});

test('logprob: masked (-Infinity) logits get p = 0, finite entropy and zero gradient', () => {
  // Row [0, 0, -inf, 0]: the same as a uniform distribution over 3 tokens.
  const logits = new Float32Array([0, 0, -Infinity, 0]);
  for (const k of [ref, native]) {
    const logp = new Float32Array(1);
    const lse = new Float32Array(1);
    const ent = new Float32Array(1);
    k.logprobForward(logits, new Int32Array([1]), logp, lse, ent, 1, 4);
    assertClose(ent, new Float32Array([Math.log(3)]), `${k === ref ? 'ref' : 'native'} entropy`);
    assertClose(logp, new Float32Array([-Math.log(3)]), 'logp');
    const dl = new Float32Array(4);
    k.logprobBackward(
      logits,
      new Int32Array([1]),
      lse,
      ent,
      new Float32Array([1]),
      new Float32Array([1]),
      dl,
      1,
      4,
    );
    assert.ok(dl.every(Number.isFinite), `finite gradient: ${dl}`);
    assert.equal(dl[2], 0);
  }
});

// ------------------------------------------------------------------------------------ embedding

test('embedding forward/backward: exact, repeated ids accumulate (race-free)', () => {
  for (const [rows, dim] of [
    [1, 1],
    [3, 7],
    [50, 17],
    [300, 256],
  ] as const) {
    const vocabRows = 11;
    const table = randArray(vocabRows * dim);
    const ids = randInts(rows, 0, vocabRows); // many repeats
    const f = both([new Float32Array(rows * dim)], (k, [out]) =>
      k.embeddingForward(table, ids, out!, rows, dim),
    );
    assertBitEqual(f.nb[0]!, f.rb[0]!, `embedding ${rows}x${dim} forward`);
    const dout = randArray(rows * dim);
    const b = both([randArray(vocabRows * dim)], (k, [dt]) =>
      k.embeddingBackward(ids, dout, dt!, rows, dim),
    );
    assertBitEqual(b.nb[0]!, b.rb[0]!, `embedding ${rows}x${dim} backward`);
  }
});

// ------------------------------------------------------------------------------------ elementwise

test('elementwise add/mul/axpy/scale/sumSquares/countNonFinite', () => {
  for (const n of [0, 1, 17, 100003]) {
    const a = randArray(n);
    const b = randArray(n);
    let r = both([new Float32Array(n)], (k, [out]) => k.add(a, b, out!, n));
    assertBitEqual(r.nb[0]!, r.rb[0]!, `add ${n}`);
    r = both([new Float32Array(n)], (k, [out]) => k.mul(a, b, out!, n));
    assertBitEqual(r.nb[0]!, r.rb[0]!, `mul ${n}`);
    r = both([b], (k, [y]) => k.axpy(-0.37, a, y!, n));
    assertClose(r.nb[0]!, r.rb[0]!, `axpy ${n}`);
    r = both([a], (k, [x]) => k.scaleInPlace(x!, 0.37, n));
    assertClose(r.nb[0]!, r.rb[0]!, `scaleInPlace ${n}`);
    // out aliasing an input
    const alias = copy(a);
    native.add(alias, b, alias, n);
    assertBitEqual(
      alias,
      a.map((v, i) => v + b[i]!),
      `add in place ${n}`,
    );
    const ss = native.sumSquares(a, n);
    const ssRef = ref.sumSquares(a, n);
    assert.ok(Math.abs(ss - ssRef) <= 1e-12 * ssRef, `sumSquares ${n}: ${ss} vs ${ssRef}`);
  }
  // only the first n elements are used
  assert.equal(native.sumSquares(new Float32Array([3, 4, 100]), 2), 25);
  const x = randArray(70001);
  for (const i of [0, 5, 69999, 70000]) x[i] = NaN;
  x[17] = Infinity;
  x[40000] = -Infinity;
  x[41] = 3.4e38; // large but finite
  assert.equal(native.countNonFinite(x, x.length), 6);
  assert.equal(ref.countNonFinite(x, x.length), 6);
  assert.equal(native.countNonFinite(x, 10), 2);
});

// ------------------------------------------------------------------------------------ adamw

test('adamw: hand-computed worked example (with gradScale and weight decay)', () => {
  // Step t=1, beta1 = 0.9, beta2 = 0.999 -> bc1 = 0.1, bc2 = 0.001; gradScale 2, so g' = 2 g.
  //   element 0: p=1,  g=0.5  -> g'=1:  m = 0.1,  v = 0.001 -> mhat = 1,  vhat = 1
  //              p = 1 - 0.1 * 1/(1 + 1e-8) - 0.1*0.01*1 = 0.899 (to 1e-9)
  //   element 1: p=-2, g=-1.5 -> g'=-3: m = -0.3, v = 0.009 -> mhat = -3, vhat = 9
  //              p = -2 - 0.1 * (-3/3) - 0.1*0.01*(-2) = -2 + 0.1 + 0.002 = -1.898
  //   element 2: p=0.5, g=0 (zero gradient): m = v = 0, only decay: p = 0.5 - 0.0005 = 0.4995
  for (const k of [ref, native]) {
    const p = new Float32Array([1, -2, 0.5]);
    const m = new Float32Array(3);
    const v = new Float32Array(3);
    k.adamw(
      p,
      new Float32Array([0.5, -1.5, 0]),
      m,
      v,
      3,
      0.1,
      0.9,
      0.999,
      1e-8,
      0.01,
      0.1,
      0.001,
      2,
    );
    assertClose(m, new Float32Array([0.1, -0.3, 0]), `adamw m (${k === ref ? 'ref' : 'native'})`);
    assertClose(v, new Float32Array([0.001, 0.009, 0]), 'adamw v', 1e-6);
    assertClose(p, new Float32Array([0.899, -1.898, 0.4995]), 'adamw p', 1e-6);
    // Step 2 on element 0 with the same g'=1: m = 0.19, v = 0.001999, bc1 = 0.19,
    // bc2 = 1 - 0.999^2 = 0.001999 -> mhat = 1, vhat = 1: p = 0.899 - 0.1 - 0.1*0.01*0.899
    k.adamw(
      p,
      new Float32Array([0.5, 0, 0]),
      m,
      v,
      1,
      0.1,
      0.9,
      0.999,
      1e-8,
      0.01,
      0.19,
      0.001999,
      2,
    );
    assert.ok(Math.abs(p[0]! - (0.899 - 0.1 - 0.000899)) < 1e-6, `adamw step 2: ${p[0]}`);
  }
});

test('adamw: native matches reference on random state', () => {
  for (const n of [1, 15, 33, 50001]) {
    const g = randArray(n);
    const v0 = randArray(n).map((x) => x * x * 0.01);
    const r = both([randArray(n), randArray(n, 0.1), v0], (k, [p, m, v]) =>
      k.adamw(p!, g, m!, v!, n, 3e-4, 0.9, 0.95, 1e-8, 0.1, 1 - 0.9 ** 7, 1 - 0.95 ** 7, 0.7),
    );
    assertClose(r.nb[0]!, r.rb[0]!, `adamw p ${n}`);
    assertClose(r.nb[1]!, r.rb[1]!, `adamw m ${n}`);
    assertClose(r.nb[2]!, r.rb[2]!, `adamw v ${n}`);
  }
});

// ------------------------------------------------------------------------------------ bf16

test('toBf16: round to nearest even, NaN, Inf, extremes (bit-exact, both kernels)', () => {
  const bits = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0]!;
  const cases: Array<[number, number]> = [
    [0x3f800000, 0x3f80], // 1
    [0x3f808000, 0x3f80], // 1 + half an ulp: tie, keep even 0x3f80
    [0x3f818000, 0x3f82], // tie with odd lower half: round up to even
    [0x3f808001, 0x3f81], // just above the tie: up
    [0x3f807fff, 0x3f80], // just below the tie: down
    [0xbf808000, 0xbf80], // negative tie
    [0x80000000, 0x8000], // -0
    [0x00000001, 0x0000], // smallest subnormal rounds to 0
    [0x00008000, 0x0000], // subnormal tie, even
    [0x00018000, 0x0002], // subnormal tie, odd -> up
    [0x7f800000, 0x7f80], // +Inf
    [0xff800000, 0xff80], // -Inf
    [0x7f7fffff, 0x7f80], // max f32 rounds up to Inf (IEEE round to nearest)
    [0x7f7f7fff, 0x7f7f], // largest value that rounds to max bf16
    [0x7f7f8000, 0x7f80], // tie at the top, odd lower -> Inf
    [0xff7fffff, 0xff80], // -max -> -Inf
    [0x7fc00000, 0x7fc0], // quiet NaN
    [0xffc00001, 0xffc0], // negative NaN with payload
    [0x7f800001, 0x7fc0], // NaN whose payload is only in the low bits: still NaN (not Inf)
    [0x7fffffff, 0x7fff], // NaN, all bits: must not carry into the sign
  ];
  const x = new Float32Array(cases.map(([u]) => bits(u)));
  const want = new Uint16Array(cases.map(([, b]) => b));
  for (const k of [ref, native]) {
    const out = new Uint16Array(cases.length);
    k.toBf16(x, out, cases.length);
    assertBitEqual(out, want, `toBf16 cases (${k === ref ? 'reference' : 'native'})`);
  }
  // random values: native = reference bit for bit, and agrees with linalg's roundBf16
  const n = 100003;
  const r = randArray(n, 1e3);
  const a = new Uint16Array(n);
  const b = new Uint16Array(n);
  native.toBf16(r, a, n);
  ref.toBf16(r, b, n);
  assertBitEqual(a, b, 'toBf16 random');
  const back = new Float32Array(n);
  native.fromBf16(a, back, n);
  for (let i = 0; i < n; i += 97) assert.equal(back[i], roundBf16(r[i]!));
});

test('fromBf16: all 65536 patterns, bit-exact; round trip is the identity', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const a = new Float32Array(65536);
  const b = new Float32Array(65536);
  native.fromBf16(all, a, 65536);
  ref.fromBf16(all, b, 65536);
  assertBitEqual(a, b, 'fromBf16');
  assert.equal(a[0x3f80], 1);
  assert.equal(a[0xc000], -2);
  const again = new Uint16Array(65536);
  native.toBf16(a, again, 65536);
  // NaNs come back quiet (bit 0x40 forced); everything else exactly
  for (let i = 0; i < 65536; i++) {
    const isNaN = (i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0;
    assert.equal(again[i], isNaN ? i | 0x40 : i, `round trip 0x${i.toString(16)}`);
  }
});

// ------------------------------------------------------------------------------------ arguments

test('bad arguments throw a clear error instead of reading out of bounds', () => {
  const f = (n: number) => new Float32Array(n);
  assert.throws(
    () => native.rmsnormForward(f(12), f(4), f(11), f(3), 3, 4, 1e-5),
    (e: Error) =>
      e instanceof TypeError && /rmsnormForward/.test(e.message) && /\by\b/.test(e.message),
  );
  assert.throws(
    () => native.rmsnormBackward(f(12), f(3), f(3), f(12), f(12), f(4), 3, 4),
    TypeError,
  );
  assert.throws(() => native.softmaxForward(f(12), f(12), 1e12, 4), /softmaxForward/);
  assert.throws(() => native.softmaxForward(new Float64Array(12) as never, f(12), 3, 4), TypeError);
  assert.throws(() => native.swigluForward(f(8), f(4), 2, 4), /swigluForward: h/);
  assert.throws(() => native.add(f(3), f(3), f(3), 4), TypeError);
  assert.throws(() => native.toBf16(f(4), new Uint16Array(3), 4), /toBf16/);
  assert.throws(
    () => native.adamw(f(4), f(4), f(4), f(3), 4, 1, 0.9, 0.9, 1e-8, 0, 1, 1, 1),
    /adamw: v/,
  );
  assert.throws(
    () => native.rope(f(8), f(7), new Int32Array(1), 1, 2, 1, 4, 1e4, false),
    /rope: y/,
  );
  for (const k of [ref, native]) {
    assert.throws(() => k.rope(f(6), f(6), new Int32Array(1), 1, 2, 1, 3, 1e4, false), /even/);
    assert.throws(() => k.rope(f(8), f(8), new Int32Array(1), 1, 2, 3, 4, 1e4, false), RangeError);
    assert.throws(
      () => k.logprobBackward(f(4), new Int32Array(1), f(1), null, null, f(1), f(4), 1, 4),
      (e: Error) => e instanceof TypeError && /needs the saved entropy/.test(e.message),
    );
  }
  assert.throws(
    () => native.logprobForward(f(8), new Int32Array([0, 4]), f(2), f(2), null, 2, 4),
    (e: Error) => e instanceof RangeError && /target 4/.test(e.message),
  );
  assert.throws(() => native.embeddingForward(f(8), new Int32Array([2]), f(4), 1, 4), RangeError);
  assert.throws(() => native.embeddingBackward(new Int32Array([-1]), f(4), f(8), 1, 4), RangeError);
  assert.throws(() => ref.embeddingForward(f(8), new Int32Array([2]), f(4), 1, 4), RangeError);
  assert.throws(() => (native.add as unknown as () => void)(), /expected 4 arguments/);
  // a failed call leaves its outputs untouched
  const y = f(12).fill(7);
  assert.throws(() => native.rmsnormForward(f(12), f(4), y, f(2), 3, 4, 1e-5), TypeError);
  assert.ok(y.every((v) => v === 7));
});

// ------------------------------------------------------------------------------------ gradients

/**
 * Central finite differences of a scalar loss with respect to an f32 input, against the
 * analytic gradient. The step actually taken is measured from the rounded f32 values.
 */
function gradCheck(
  what: string,
  x: Float32Array,
  loss: () => number,
  analytic: Float32Array,
): void {
  const eps = 1e-3;
  const scale = maxAbs(analytic);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i]!;
    x[i] = x0 + eps;
    const hi = x[i]!;
    const lp = loss();
    x[i] = x0 - eps;
    const lo = x[i]!;
    const lm = loss();
    x[i] = x0;
    const numeric = (lp - lm) / (hi - lo);
    const tol = 1e-2 * (Math.abs(analytic[i]!) + 0.1 * scale);
    if (!(Math.abs(numeric - analytic[i]!) <= tol)) {
      assert.fail(`${what}: d/dx[${i}] numeric ${numeric} vs analytic ${analytic[i]}`);
    }
  }
}

/** sum(out * weights) in f64 */
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

test('reference backward kernels match finite differences of their forwards', () => {
  const k = ref;
  {
    const [rows, dim] = [3, 5];
    const x = randArray(rows * dim);
    const w = randArray(dim);
    const R = randArray(rows * dim);
    const y = new Float32Array(rows * dim);
    const rstd = new Float32Array(rows);
    const loss = () => (k.rmsnormForward(x, w, y, rstd, rows, dim, 1e-5), dot(y, R));
    loss();
    const dx = new Float32Array(rows * dim);
    const dw = new Float32Array(dim);
    k.rmsnormBackward(x, w, rstd, R, dx, dw, rows, dim);
    gradCheck('rmsnorm dx', x, loss, dx);
    gradCheck('rmsnorm dw', w, loss, dw);
  }
  {
    const [rows, vecs, rotated, hd] = [2, 3, 2, 6];
    const n = rows * vecs * hd;
    const x = randArray(n);
    const pos = new Int32Array([3, 11]);
    const R = randArray(n);
    const y = new Float32Array(n);
    const loss = () => (k.rope(x, y, pos, rows, vecs, rotated, hd, 100, false), dot(y, R));
    const dx = new Float32Array(n);
    k.rope(R, dx, pos, rows, vecs, rotated, hd, 100, true);
    gradCheck('rope dx', x, loss, dx);
  }
  {
    const [rows, hidden] = [2, 5];
    const h = randArray(rows * 2 * hidden, 2);
    const R = randArray(rows * hidden);
    const out = new Float32Array(rows * hidden);
    const loss = () => (k.swigluForward(h, out, rows, hidden), dot(out, R));
    const dh = new Float32Array(rows * 2 * hidden);
    k.swigluBackward(h, R, dh, rows, hidden);
    gradCheck('swiglu dh', h, loss, dh);
  }
  {
    const [rows, dim] = [2, 6];
    const x = randArray(rows * dim, 2);
    const R = randArray(rows * dim);
    const y = new Float32Array(rows * dim);
    const loss = () => (k.softmaxForward(x, y, rows, dim), dot(y, R));
    loss();
    const dx = new Float32Array(rows * dim);
    k.softmaxBackward(copy(y), R, dx, rows, dim);
    gradCheck('softmax dx', x, loss, dx);
  }
  {
    const [rows, vocab] = [3, 7];
    const logits = randArray(rows * vocab, 2);
    const targets = new Int32Array([4, -1, 0]); // row 1 ignored: entropy gradient only
    const A = randArray(rows);
    const B = randArray(rows);
    const logp = new Float32Array(rows);
    const lse = new Float32Array(rows);
    const ent = new Float32Array(rows);
    const loss = () => (
      k.logprobForward(logits, targets, logp, lse, ent, rows, vocab),
      dot(logp, A) + dot(ent, B)
    );
    loss();
    const dl = new Float32Array(rows * vocab);
    k.logprobBackward(logits, targets, lse, ent, A, B, dl, rows, vocab);
    gradCheck('logprob+entropy dlogits', logits, loss, dl);
  }
  {
    const [rows, dim, vocabRows] = [5, 3, 4];
    const table = randArray(vocabRows * dim);
    const ids = new Int32Array([1, 3, 1, 0, 1]);
    const R = randArray(rows * dim);
    const out = new Float32Array(rows * dim);
    const loss = () => (k.embeddingForward(table, ids, out, rows, dim), dot(out, R));
    const dt = new Float32Array(vocabRows * dim);
    k.embeddingBackward(ids, R, dt, rows, dim);
    gradCheck('embedding dtable', table, loss, dt);
  }
});
