/**
 * Neural-network ops, each one fused kernel forward and one backward:
 * embedding, RMSNorm, RoPE, SwiGLU, softmax, multi-head attention.
 */
import { kernels } from '../kernels/index.js';
import { allocF32 } from '../memory.js';
import { getMatmulDtype } from '../config.js';
import { ATTENTION_ROW_STATS, type AttentionSpec } from '../kernels/types.js';
import { ShapeError, Tensor, expectShape, formatShape, opResult } from '../tensor.js';

/** Rows of `table` ([vocab, dim]) picked by ids; output [...idsShape, dim]. */
export function embedding(
  table: Tensor,
  ids: Int32Array,
  idsShape: readonly number[] = [ids.length],
): Tensor {
  expectShape(
    table.rank === 2,
    'embedding',
    () => `table must be [vocab, dim], got ${formatShape(table.shape)}`,
  );
  const vocab = table.dim(0);
  const dim = table.dim(1);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= vocab)
      throw new ShapeError(`embedding: id ${id} at position ${i} is outside [0, ${vocab})`);
  }
  const K = kernels();
  const out = allocF32(ids.length * dim, false);
  K.embeddingForward(table.data, ids, out, ids.length, dim);
  return opResult('embedding', out, [...idsShape, dim], [table], (y) => {
    K.embeddingBackward(ids, y.grad!, table.gradBuffer(), ids.length, dim);
  });
}

/** RMSNorm over the last dim with a learned gain w ([dim]). */
export function rmsnorm(x: Tensor, w: Tensor, eps = 1e-6): Tensor {
  const dim = x.dim(-1);
  expectShape(
    w.rank === 1 && w.dim(0) === dim,
    'rmsnorm',
    () => `gain ${formatShape(w.shape)} does not match input ${formatShape(x.shape)}`,
  );
  const rows = x.size / dim;
  const K = kernels();
  const y = allocF32(x.size, false);
  const rstd = new Float32Array(rows);
  K.rmsnormForward(x.data, w.data, y, rstd, rows, dim, eps);
  return opResult('rmsnorm', y, x.shape, [x, w], (out) => {
    // The kernel writes dx and dw together; give it a scratch buffer for whichever is not needed.
    const dx = x.requiresGrad ? x.gradBuffer() : allocF32(x.size);
    const dw = w.requiresGrad ? w.gradBuffer() : new Float32Array(dim);
    K.rmsnormBackward(x.data, w.data, rstd, out.grad!, dx, dw, rows, dim);
  });
}

export interface RopeOptions {
  /** vectors of headDim per row of x (e.g. 3*heads for a fused qkv row) */
  vecsPerRow: number;
  /** how many of them, from the start of the row, are rotated (e.g. 2*heads: q and k) */
  rotated: number;
  headDim: number;
  base?: number;
}

/** Rotary position embedding; x: [..., vecsPerRow*headDim], positions: one per row. */
export function rope(x: Tensor, positions: Int32Array, opts: RopeOptions): Tensor {
  const { vecsPerRow, rotated, headDim } = opts;
  const base = opts.base ?? 10000;
  expectShape(
    x.dim(-1) === vecsPerRow * headDim && headDim % 2 === 0 && rotated <= vecsPerRow,
    'rope',
    () => `last dim of ${formatShape(x.shape)} is not ${vecsPerRow} x ${headDim} (even)`,
  );
  const rows = x.size / x.dim(-1);
  expectShape(
    positions.length === rows,
    'rope',
    () => `${positions.length} positions for ${rows} rows`,
  );
  const K = kernels();
  const y = allocF32(x.size, false);
  K.rope(x.data, y, positions, rows, vecsPerRow, rotated, headDim, base, false);
  return opResult('rope', y, x.shape, [x], (out) => {
    K.rope(out.grad!, x.gradBuffer(), positions, rows, vecsPerRow, rotated, headDim, base, true);
  });
}

/** SwiGLU on a fused [gate | up] projection: [..., 2*hidden] -> [..., hidden]. */
export function swiglu(h: Tensor): Tensor {
  const two = h.dim(-1);
  expectShape(two % 2 === 0, 'swiglu', () => `last dim of ${formatShape(h.shape)} must be even`);
  const hidden = two / 2;
  const rows = h.size / two;
  const K = kernels();
  const out = allocF32(rows * hidden, false);
  K.swigluForward(h.data, out, rows, hidden);
  return opResult('swiglu', out, [...h.shape.slice(0, -1), hidden], [h], (y) => {
    K.swigluBackward(h.data, y.grad!, h.gradBuffer(), rows, hidden);
  });
}

/** Softmax over the last dim. */
export function softmax(x: Tensor): Tensor {
  const dim = x.dim(-1);
  const rows = x.size / dim;
  const K = kernels();
  const y = allocF32(x.size, false);
  K.softmaxForward(x.data, y, rows, dim);
  return opResult('softmax', y, x.shape, [x], (out) => {
    K.softmaxBackward(y, out.grad!, x.gradBuffer(), rows, dim);
  });
}

export interface AttentionOptions {
  heads: number;
  causal: boolean;
  /** per sequence, first valid key (left padding); null = all keys valid */
  keyStart?: Int32Array | null;
}

/**
 * Multi-head scaled dot-product attention over a fused projection.
 * qkv: [batch, seq, 3*heads*headDim] laid out [q | k | v], each [heads, headDim];
 * output: [batch, seq, heads*headDim].
 */
export function attention(qkv: Tensor, opts: AttentionOptions): Tensor {
  expectShape(
    qkv.rank === 3 && qkv.dim(2) % (3 * opts.heads) === 0,
    'attention',
    () =>
      `qkv must be [batch, seq, 3*heads*headDim] with heads=${opts.heads}, got ${formatShape(qkv.shape)}`,
  );
  const [batch, seq, width3] = qkv.shape as [number, number, number];
  const headDim = width3 / (3 * opts.heads);
  const keyStart = opts.keyStart ?? null;
  expectShape(
    keyStart === null || keyStart.length === batch,
    'attention',
    () => `keyStart has ${keyStart!.length} entries for batch ${batch}`,
  );
  const spec: AttentionSpec = {
    batch,
    seq,
    heads: opts.heads,
    headDim,
    causal: opts.causal,
    keyStart,
    dtype: getMatmulDtype(),
  };
  const K = kernels();
  const out = allocF32(batch * seq * opts.heads * headDim, false);
  // per query row what backward needs to recompute its probabilities (types.ts)
  const stats = allocF32(batch * opts.heads * seq * ATTENTION_ROW_STATS, false);
  K.attentionForward(qkv.data, out, stats, spec);
  return opResult('attention', out, [batch, seq, opts.heads * headDim], [qkv], (y) => {
    K.attentionBackward(qkv.data, stats, y.grad!, qkv.gradBuffer(), spec);
  });
}
