/**
 * Reference pointwise / normalisation / log-prob / optimizer kernels: straightforward loops in
 * plain TypeScript, the specification the native C++ versions (src/native/pointwise.cc) are
 * tested against. Forward and backward sit side by side; see ../types.ts for the contracts.
 *
 * Arithmetic is done in JS doubles and rounded to f32 only when stored, so these are (slightly)
 * more accurate than the native f32 kernels; tests compare with a small relative tolerance.
 */
import type { Kernels } from '../types.js';

export type PointwiseKernels = Omit<
  Kernels,
  | 'name'
  | 'matmul'
  | 'attentionForward'
  | 'attentionBackward'
  | 'attentionDecode'
  | 'kvStore'
  | 'sampleTokens'
  | 'conv2dForward'
  | 'conv2dBackwardData'
  | 'conv2dBackwardWeights'
>;

// ------------------------------------------------------------------------------------ rmsnorm

function rmsnormForward(
  x: Float32Array,
  w: Float32Array,
  y: Float32Array,
  rstd: Float32Array,
  rows: number,
  dim: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[o + i]! * x[o + i]!;
    const rs = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = rs;
    // Use the stored (f32) rstd so that backward, which only sees the stored value, is consistent.
    const rsf = rstd[r]!;
    for (let i = 0; i < dim; i++) y[o + i] = x[o + i]! * rsf * w[i]!;
  }
}

/**
 * y_i = x_i r w_i with r = (mean(x^2) + eps)^(-1/2), so dr/dx_j = -r^3 x_j / dim and
 *   dx_j = r (dy_j w_j - x_j r^2 / dim * sum_i dy_i w_i x_i),   dw_i = sum_rows dy_i x_i r.
 */
function rmsnormBackward(
  x: Float32Array,
  w: Float32Array,
  rstd: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  dw: Float32Array,
  rows: number,
  dim: number,
): void {
  const dwAcc = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const rs = rstd[r]!;
    let dot = 0; // sum_i dy_i w_i x_i
    for (let i = 0; i < dim; i++) dot += dy[o + i]! * w[i]! * x[o + i]!;
    const c = (rs * rs * dot) / dim;
    for (let i = 0; i < dim; i++) {
      dx[o + i] = dx[o + i]! + rs * (dy[o + i]! * w[i]! - x[o + i]! * c);
      dwAcc[i] = dwAcc[i]! + dy[o + i]! * x[o + i]! * rs;
    }
  }
  for (let i = 0; i < dim; i++) dw[i] = dw[i]! + dwAcc[i]!;
}

// ------------------------------------------------------------------------------------ rope

/**
 * Half-split rotary embedding: within each rotated vector, pair (i, i + headDim/2) is rotated by
 * theta_i = pos * base^(-2i/headDim). Forward y = R x (overwrite); inverse y += R^T x (backward).
 */
function rope(
  x: Float32Array,
  y: Float32Array,
  positions: Int32Array,
  rows: number,
  vecsPerRow: number,
  rotated: number,
  headDim: number,
  base: number,
  inverse: boolean,
): void {
  if (headDim % 2 !== 0) throw new RangeError(`rope: headDim must be even, got ${headDim}`);
  if (rotated > vecsPerRow) throw new RangeError('rope: rotated must be <= vecsPerRow');
  const half = headDim / 2;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let r = 0; r < rows; r++) {
    const pos = positions[r]!;
    for (let i = 0; i < half; i++) {
      const theta = pos * Math.pow(base, (-2 * i) / headDim);
      cos[i] = Math.cos(theta);
      sin[i] = Math.sin(theta);
    }
    for (let v = 0; v < vecsPerRow; v++) {
      const o = (r * vecsPerRow + v) * headDim;
      if (v >= rotated) {
        // Not rotated (e.g. the v of a fused qkv row): identity, so copy / pass the gradient on.
        for (let i = 0; i < headDim; i++) y[o + i] = inverse ? y[o + i]! + x[o + i]! : x[o + i]!;
        continue;
      }
      for (let i = 0; i < half; i++) {
        const a = x[o + i]!;
        const b = x[o + i + half]!;
        const c = cos[i]!;
        const s = sin[i]!;
        if (!inverse) {
          y[o + i] = a * c - b * s;
          y[o + i + half] = a * s + b * c;
        } else {
          // R^T = R(-theta): the gradient of a rotation is the opposite rotation.
          y[o + i] = y[o + i]! + (a * c + b * s);
          y[o + i + half] = y[o + i + half]! + (-a * s + b * c);
        }
      }
    }
  }
}

// ------------------------------------------------------------------------------------ swiglu

function sigmoid(g: number): number {
  return 1 / (1 + Math.exp(-g));
}

function swigluForward(h: Float32Array, out: Float32Array, rows: number, hidden: number): void {
  for (let r = 0; r < rows; r++) {
    const ho = r * 2 * hidden;
    const oo = r * hidden;
    for (let i = 0; i < hidden; i++) {
      const g = h[ho + i]!;
      const u = h[ho + hidden + i]!;
      out[oo + i] = g * sigmoid(g) * u;
    }
  }
}

/** d silu(g)/dg = s (1 + g (1 - s)) with s = sigmoid(g); d out/d up = silu(g). */
function swigluBackward(
  h: Float32Array,
  dout: Float32Array,
  dh: Float32Array,
  rows: number,
  hidden: number,
): void {
  for (let r = 0; r < rows; r++) {
    const ho = r * 2 * hidden;
    const oo = r * hidden;
    for (let i = 0; i < hidden; i++) {
      const g = h[ho + i]!;
      const u = h[ho + hidden + i]!;
      const s = sigmoid(g);
      const d = dout[oo + i]!;
      dh[ho + i] = dh[ho + i]! + d * u * s * (1 + g * (1 - s));
      dh[ho + hidden + i] = dh[ho + hidden + i]! + d * g * s;
    }
  }
}

// ------------------------------------------------------------------------------------ gelu

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

function geluForward(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    y[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
  }
}

/** gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(c (x + a x^3)). */
function geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
    const d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v);
    dx[i] = dx[i]! + dy[i]! * d;
  }
}

// ------------------------------------------------------------------------------------ softmax

function softmaxForward(x: Float32Array, y: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let max = -Infinity;
    for (let i = 0; i < dim; i++) if (x[o + i]! > max) max = x[o + i]!;
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += Math.exp(x[o + i]! - max);
    for (let i = 0; i < dim; i++) y[o + i] = Math.exp(x[o + i]! - max) / sum;
  }
}

function softmaxBackward(
  y: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  rows: number,
  dim: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += dy[o + i]! * y[o + i]!;
    for (let i = 0; i < dim; i++) dx[o + i] = dx[o + i]! + y[o + i]! * (dy[o + i]! - dot);
  }
}

// ------------------------------------------------------------------------------------ logprob

function checkTarget(t: number, vocab: number, kernel: string): void {
  if (t >= vocab) throw new RangeError(`${kernel}: target ${t} out of range [0, ${vocab})`);
}

/**
 * With m = max_j x_j, S = sum_j e^(x_j - m):  lse = m + log S, and the entropy
 *   H = -sum p_j log p_j = log S - (1/S) sum_j e^(x_j - m) (x_j - m)
 * is a sum of two non-negative terms (no cancellation), computed without storing p.
 */
function logprobForward(
  logits: Float32Array,
  targets: Int32Array,
  logp: Float32Array,
  lse: Float32Array,
  entropy: Float32Array | null,
  rows: number,
  vocab: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    const t = targets[r]!;
    checkTarget(t, vocab, 'logprobForward');
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) if (logits[o + j]! > max) max = logits[o + j]!;
    let sum = 0;
    let wsum = 0; // sum_j e_j (x_j - m)
    for (let j = 0; j < vocab; j++) {
      const d = logits[o + j]! - max;
      const e = Math.exp(d);
      sum += e;
      if (e !== 0) wsum += e * d; // p log p -> 0 as p -> 0 (a masked -Infinity logit)
    }
    const l = max + Math.log(sum);
    lse[r] = l;
    logp[r] = t < 0 ? 0 : logits[o + t]! - l;
    if (entropy) entropy[r] = Math.log(sum) - wsum / sum;
  }
}

/**
 * p_j = exp(x_j - lse), recomputed from the saved lse. With a = dlogp (0 for ignored rows) and
 * b = dentropy:  dx_j += a (1[j = t] - p_j) - b p_j (x_j - lse + H).
 */
function logprobBackward(
  logits: Float32Array,
  targets: Int32Array,
  lse: Float32Array,
  entropy: Float32Array | null,
  dlogp: Float32Array | null,
  dentropy: Float32Array | null,
  dlogits: Float32Array,
  rows: number,
  vocab: number,
): void {
  if (dentropy && !entropy) {
    throw new TypeError('logprobBackward: dentropy needs the saved entropy');
  }
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    const t = targets[r]!;
    checkTarget(t, vocab, 'logprobBackward');
    const a = dlogp && t >= 0 ? dlogp[r]! : 0;
    const b = dentropy ? dentropy[r]! : 0;
    const h = entropy ? entropy[r]! : 0;
    const l = lse[r]!;
    // A row with no incoming gradient contributes nothing (even if its logits are not finite).
    if (a === 0 && b === 0) continue;
    for (let j = 0; j < vocab; j++) {
      const lp = logits[o + j]! - l;
      const p = Math.exp(lp);
      if (p === 0) continue; // nothing to add (and lp may be -Infinity)
      dlogits[o + j] = dlogits[o + j]! - p * (a + b * (lp + h));
    }
    if (t >= 0) dlogits[o + t] = dlogits[o + t]! + a;
  }
}

// ------------------------------------------------------------------------------------ embedding

function checkId(id: number, vocabRows: number, kernel: string): void {
  if (id < 0 || id >= vocabRows) {
    throw new RangeError(`${kernel}: id ${id} out of range [0, ${vocabRows})`);
  }
}

function embeddingForward(
  table: Float32Array,
  ids: Int32Array,
  out: Float32Array,
  rows: number,
  dim: number,
): void {
  const vocabRows = dim > 0 ? Math.floor(table.length / dim) : 0;
  for (let r = 0; r < rows; r++) {
    const id = ids[r]!;
    checkId(id, vocabRows, 'embeddingForward');
    for (let i = 0; i < dim; i++) out[r * dim + i] = table[id * dim + i]!;
  }
}

function embeddingBackward(
  ids: Int32Array,
  dout: Float32Array,
  dtable: Float32Array,
  rows: number,
  dim: number,
): void {
  const vocabRows = dim > 0 ? Math.floor(dtable.length / dim) : 0;
  for (let r = 0; r < rows; r++) {
    const id = ids[r]!;
    checkId(id, vocabRows, 'embeddingBackward');
    for (let i = 0; i < dim; i++) dtable[id * dim + i] = dtable[id * dim + i]! + dout[r * dim + i]!;
  }
}

// ------------------------------------------------------------------------------------ elementwise

function add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

function mul(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
}

function axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
}

function scaleInPlace(x: Float32Array, alpha: number, n: number): void {
  for (let i = 0; i < n; i++) x[i] = x[i]! * alpha;
}

function sumSquares(x: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]! * x[i]!;
  return s;
}

function countNonFinite(x: Float32Array, n: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) c++;
  return c;
}

// ------------------------------------------------------------------------------------ optimizer

function adamw(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  bc1: number,
  bc2: number,
  gradScale: number,
): void {
  for (let i = 0; i < n; i++) {
    const gi = g[i]! * gradScale;
    m[i] = beta1 * m[i]! + (1 - beta1) * gi;
    v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
    const mhat = m[i]! / bc1;
    const vhat = v[i]! / bc2;
    // Decoupled weight decay: uses the parameter before this step's update.
    p[i] = p[i]! - (lr * mhat) / (Math.sqrt(vhat) + eps) - lr * weightDecay * p[i]!;
  }
}

// ------------------------------------------------------------------------------------ bf16 casts

// The casts work on bit patterns through Uint32Array views: reading a NaN out of a Float32Array
// into a JS number (a double) may quieten or canonicalise it, changing its bits.
function bitsOf(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

/** bf16 is the top half of an f32: round the low 16 bits to nearest, ties to even. */
function toBf16(x: Float32Array, out: Uint16Array, n: number): void {
  const xb = bitsOf(x);
  for (let i = 0; i < n; i++) {
    const bits = xb[i]!;
    if ((bits & 0x7fffffff) > 0x7f800000) {
      // NaN: truncate and force a quiet-NaN mantissa bit, since truncation alone could turn a
      // NaN with only low mantissa bits into Inf.
      out[i] = (bits >>> 16) | 0x0040;
    } else {
      // Inf passes through unchanged (low bits are 0); the largest finite values round up to
      // Inf, as IEEE round-to-nearest requires.
      out[i] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
}

function fromBf16(x: Uint16Array, out: Float32Array, n: number): void {
  const ob = bitsOf(out);
  for (let i = 0; i < n; i++) ob[i] = x[i]! << 16;
}

export const pointwiseReference: PointwiseKernels = {
  geluForward,
  geluBackward,
  rmsnormForward,
  rmsnormBackward,
  rope,
  swigluForward,
  swigluBackward,
  softmaxForward,
  softmaxBackward,
  logprobForward,
  logprobBackward,
  embeddingForward,
  embeddingBackward,
  add,
  mul,
  axpy,
  scaleInPlace,
  sumSquares,
  countNonFinite,
  adamw,
  toBf16,
  fromBf16,
};
