/**
 * The kernel interface: every compute routine the engine needs, over flat typed arrays.
 *
 * Two implementations exist: `reference.ts` (plain TypeScript, obviously correct, slow) and
 * `native.ts` (the N-API addon: oneDNN matmul, OpenMP-parallel fused C++ kernels). Tests compare
 * the two on random inputs. The autograd layer (`../tensor.ts`, `../ops/*`) only ever calls
 * through this interface.
 *
 * Conventions shared by every kernel:
 * - Arrays are dense row-major Float32Array unless stated; shapes are given in the comment.
 * - Outputs are caller-allocated. Forward kernels OVERWRITE their outputs.
 * - Backward kernels ACCUMULATE (+=) into gradient buffers, so a tensor used twice gets the
 *   sum of both contributions without a temporary. Gradient buffers start zeroed.
 * - Kernels never allocate outputs visible to the caller and never throw on numeric values;
 *   shape/length checks are done by the caller (ops) so errors name the op and the shapes.
 */

export type MatmulDtype = 'f32' | 'bf16';

/** Options of one (batched) matrix product. */
export interface MatmulSpec {
  /** number of independent products (1 for a plain matmul) */
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A is stored [batch, k, m] and used transposed (else [batch, m, k]) */
  transA: boolean;
  /** B is stored [batch, n, k] and used transposed (else [batch, k, n]) */
  transB: boolean;
  /** B has no batch dimension: one matrix shared by every batch entry (a weight) */
  broadcastB: boolean;
  /** C += A·B instead of C = A·B */
  accumulate: boolean;
  /** 'bf16': inputs rounded to bfloat16, products accumulated in f32 (autocast semantics) */
  dtype: MatmulDtype;
  /**
   * Optional, dtype 'bf16' only: B already rounded to bf16 (bit patterns, same layout and length
   * as b). The kernel then reads it instead of converting b on every call — used for weights,
   * whose bf16 copy is cached until the optimizer changes them (see ops/linalg.ts).
   */
  bBf16?: Uint16Array | null;
}

/** Shape of a fused multi-head attention call. */
/** Floats attention saves per query row for backward: its score max and 1 / its exp-sum. */
export const ATTENTION_ROW_STATS = 2;

export interface AttentionSpec {
  batch: number;
  /** sequence length (queries = keys) */
  seq: number;
  heads: number;
  headDim: number;
  /** causal: query i sees keys j <= i; else every key */
  causal: boolean;
  /**
   * Per batch entry, the first valid key index (keys j < keyStart[b] are padding and masked),
   * or null for none. A query row with no visible key outputs zeros.
   */
  keyStart: Int32Array | null;
  dtype: MatmulDtype;
}

/**
 * Shape of a 2-D convolution. Layout is channels-last throughout (what a vision stem feeding a
 * transformer wants: the output [batch, outH, outW, channels] is already [batch, tokens, width]
 * in raster order, and a per-pixel channel norm is the plain last-dim RMSNorm):
 *   x:  [batch, height, width, inChannels]            (NHWC)
 *   w:  [outChannels, kernelH, kernelW, inChannels]   (OHWI)
 *   y:  [batch, outH, outW, outChannels]              (NHWC), outH = convOutputSize(height, ...)
 * The same zero padding is applied on every side; rows/columns the stride skips at the far edge
 * are never read (PyTorch's floor rule).
 */
export interface Conv2dSpec {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  stride: number;
  padding: number;
  /** 'bf16': x, w (and dy) rounded to bfloat16, accumulated in f32, like the matmuls */
  dtype: MatmulDtype;
}

/** Output length of a convolution along one axis: floor((n + 2p - k) / s) + 1. */
export function convOutputSize(n: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

/** A KV cache's storage: f32, or bf16 bits (the cache of a bf16 rollout). */
export type KvCacheArray = Float32Array | Uint16Array;

export interface Kernels {
  readonly name: 'native' | 'reference';

  // ---------------------------------------------------------------- matmul and attention
  /** C[b] (+)= op(A[b]) · op(B[b]), see MatmulSpec. C is [batch, m, n]. */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, spec: MatmulSpec): void;

  /**
   * Scaled dot-product attention reading a fused projection.
   * qkv:   [batch, seq, 3, heads, headDim]  (q, k, v for each token, as a fused QKV linear emits)
   * out:   [batch, seq, heads, headDim]     (overwritten)
   * stats: [batch, heads, seq, ATTENTION_ROW_STATS] (overwritten): per query row, the max m of
   *        its scaled scores and 1 / sum_j exp(score_j - m) over its visible keys (0, 0 for a
   *        row that sees none) — all backward needs to recompute the probabilities, so no
   *        [batch, heads, seq, seq] array is saved.
   * scale is 1/sqrt(headDim).
   */
  attentionForward(
    qkv: Float32Array,
    out: Float32Array,
    stats: Float32Array,
    spec: AttentionSpec,
  ): void;
  /**
   * Accumulates into dqkv ([batch, seq, 3, heads, headDim]) given dout and the forward's stats
   * (the probabilities are recomputed from q, k and them).
   */
  attentionBackward(
    qkv: Float32Array,
    stats: Float32Array,
    dout: Float32Array,
    dqkv: Float32Array,
    spec: AttentionSpec,
  ): void;

  // ---------------------------------------------------------------- KV cache (decoding)
  /**
   * Store keys and values in a KV cache [sequences, cap, heads * headDim] (f32, or bf16 bits in
   * a Uint16Array: the bf16 rollout's cache, half the bytes to stream each step): for each pair
   * i in [0, count) and t in [0, seq), cache sequence dest[i] at position start[i] + t takes k
   * and v of token t of qkv row source[i]. qkv: [rows, seq, 3, width] (a fused projection; q is
   * not read). A prefill stores [0, seq) of each sequence (source forks a shared prefill to its
   * group); a decoding step stores one token (seq = 1) of each row still generating at its
   * sequence's own position.
   */
  kvStore(
    qkv: Float32Array,
    kCache: KvCacheArray,
    vCache: KvCacheArray,
    count: number,
    seq: number,
    width: number,
    cap: number,
    source: Int32Array,
    dest: Int32Array,
    start: Int32Array,
  ): void;
  /**
   * One decoding step against a KV cache: row r's single new query attends to cache sequence
   * seqOf[r]'s keys j in [0, lens[r]) (the cache already holds the new token's key/value at
   * lens[r]-1). Rows are the sequences still generating, so finished ones cost nothing; their
   * lengths may differ (prompts of different lengths, no padding needed).
   * qkv:    [rows, 3, heads, headDim]  (the new tokens' fused projection; only q is read)
   * kCache, vCache: [sequences, cap, heads, headDim], both f32 or both bf16 bits
   * out:    [rows, heads, headDim] (overwritten)
   * Computed in f32 (the work is tiny: one query per row).
   */
  attentionDecode(
    qkv: Float32Array,
    kCache: KvCacheArray,
    vCache: KvCacheArray,
    out: Float32Array,
    rows: number,
    heads: number,
    headDim: number,
    cap: number,
    lens: Int32Array,
    seqOf: Int32Array,
  ): void;

  /**
   * Sample one token per row r from the logits row rowOf[r] (logits: [*, vocab]): in f64,
   * x_j = logit_j / temperature and e_j = exp(x_j - max_j x_j); the token is the first j whose
   * running sum of e_j reaches uniforms[r] * sum_j e_j (uniforms in [0, 1); the most likely
   * token if rounding leaves a sliver of mass), logprobs[r] its x_j - log sum_j exp(x_j).
   * temperature <= 0: greedy, the first most likely token, its log-probability at temperature 1
   * (uniforms not read). tokens and logprobs are overwritten.
   */
  sampleTokens(
    logits: Float32Array,
    vocab: number,
    rows: number,
    rowOf: Int32Array,
    temperature: number,
    uniforms: Float64Array,
    tokens: Int32Array,
    logprobs: Float32Array,
  ): void;

  // ---------------------------------------------------------------- convolution
  /** y = conv(x, w) (+ bias[outChannels] if non-null), overwritten. See Conv2dSpec. */
  conv2dForward(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    spec: Conv2dSpec,
  ): void;
  /** dx += the input gradient of conv given dy ([batch, outH, outW, outChannels]). */
  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, spec: Conv2dSpec): void;
  /** dw += the weight gradient, db += the bias gradient (sum of dy per channel; skipped if null). */
  conv2dBackwardWeights(
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    db: Float32Array | null,
    spec: Conv2dSpec,
  ): void;

  // ---------------------------------------------------------------- normalisation and friends
  /**
   * RMSNorm over the last dim: y = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps).
   * x, y: [rows, dim]; w: [dim]; rstd: [rows] (saved for backward).
   */
  rmsnormForward(
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    rstd: Float32Array,
    rows: number,
    dim: number,
    eps: number,
  ): void;
  /** dx += ..., dw += ... */
  rmsnormBackward(
    x: Float32Array,
    w: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dw: Float32Array,
    rows: number,
    dim: number,
  ): void;

  /**
   * Rotary position embedding, half-split convention (pairs (i, i + headDim/2)), as Llama/HF do.
   * x, y: [rows, vecsPerRow, headDim]; positions: [rows]. Only the first `rotated` vectors of each
   * row are rotated, the rest copied unchanged (so a fused [q|k|v] row rotates q and k only).
   * theta_i = position * base^(-2i/headDim), i < headDim/2.
   * inverse=false: y = R x (forward, overwrite y). inverse=true: y += R^T x (the backward pass:
   * x is the incoming gradient, y the gradient buffer, accumulated).
   */
  rope(
    x: Float32Array,
    y: Float32Array,
    positions: Int32Array,
    rows: number,
    vecsPerRow: number,
    rotated: number,
    headDim: number,
    base: number,
    inverse: boolean,
  ): void;

  /**
   * SwiGLU on a fused [gate | up] projection: h [rows, 2*hidden] -> out [rows, hidden],
   * out = silu(gate) * up, silu(g) = g * sigmoid(g).
   */
  swigluForward(h: Float32Array, out: Float32Array, rows: number, hidden: number): void;
  /** dh += d(out)/dh · dout */
  swigluBackward(
    h: Float32Array,
    dout: Float32Array,
    dh: Float32Array,
    rows: number,
    hidden: number,
  ): void;

  /**
   * GELU, tanh form (as GPT-2 and PyTorch's approximate='tanh'):
   * y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). x, y: [n].
   */
  geluForward(x: Float32Array, y: Float32Array, n: number): void;
  /** dx += gelu'(x) * dy */
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;

  /** Softmax over the last dim. x, y: [rows, dim]. */
  softmaxForward(x: Float32Array, y: Float32Array, rows: number, dim: number): void;
  /** dx += y * (dy - sum(dy * y)) */
  softmaxBackward(
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    rows: number,
    dim: number,
  ): void;

  /**
   * Per-token log-probabilities without materialising the softmax:
   * lse[r] = log sum_j exp(logits[r, j]); logp[r] = logits[r, targets[r]] - lse[r];
   * if entropy is non-null, entropy[r] = -sum_j p_j log p_j.
   * logits: [rows, vocab]; targets: [rows] (a target < 0 gives logp 0: an ignored position).
   */
  logprobForward(
    logits: Float32Array,
    targets: Int32Array,
    logp: Float32Array,
    lse: Float32Array,
    entropy: Float32Array | null,
    rows: number,
    vocab: number,
  ): void;
  /**
   * dlogits[r, j] += dlogp[r] * (1[j = t_r] - p_j)                        (if dlogp non-null)
   *               += dentropy[r] * (-p_j * (log p_j + entropy[r]))         (if dentropy non-null)
   * Rows with target < 0 get no logp gradient.
   */
  logprobBackward(
    logits: Float32Array,
    targets: Int32Array,
    lse: Float32Array,
    entropy: Float32Array | null,
    dlogp: Float32Array | null,
    dentropy: Float32Array | null,
    dlogits: Float32Array,
    rows: number,
    vocab: number,
  ): void;

  /** out[r, :] = table[ids[r], :]. table: [vocabRows, dim]; ids: [rows]; out: [rows, dim]. */
  embeddingForward(
    table: Float32Array,
    ids: Int32Array,
    out: Float32Array,
    rows: number,
    dim: number,
  ): void;
  /** dtable[ids[r], :] += dout[r, :] */
  embeddingBackward(
    ids: Int32Array,
    dout: Float32Array,
    dtable: Float32Array,
    rows: number,
    dim: number,
  ): void;

  // ---------------------------------------------------------------- elementwise
  /** out = a + b (n elements; out may alias a or b) */
  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  /** out = a * b */
  mul(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  /** y += alpha * x */
  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void;
  /** x *= alpha, in place */
  scaleInPlace(x: Float32Array, alpha: number, n: number): void;
  /** sum of x^2 in f64 accumulation (for global grad norms) */
  sumSquares(x: Float32Array, n: number): number;
  /** number of NaN/Inf entries */
  countNonFinite(x: Float32Array, n: number): number;

  // ---------------------------------------------------------------- optimizer and casts
  /**
   * One AdamW step (decoupled weight decay), in place on p, m, v:
   *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
   *   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps) + lr * wd * p
   * with bc1 = 1 - b1^t, bc2 = 1 - b2^t supplied by the caller; g is pre-multiplied by
   * gradScale (used for grad-norm clipping without an extra pass).
   */
  adamw(
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
  ): void;

  /** f32 -> bf16 bit patterns, round to nearest even (NaN stays NaN). */
  toBf16(x: Float32Array, out: Uint16Array, n: number): void;
  /** bf16 bit patterns -> f32 (exact). */
  fromBf16(x: Uint16Array, out: Float32Array, n: number): void;
}
