/**
 * Matrix products: batched matmul and linear layers (x · Wᵀ, weights stored [out, in] as in
 * PyTorch). Forward and backward side by side; every product goes through kernels().matmul.
 */
import { kernels } from '../kernels/index.js';
import { allocF32 } from '../memory.js';
import type { MatmulSpec } from '../kernels/types.js';
import { getMatmulDtype } from '../config.js';
import { Tensor, expectShape, formatShape, opResult, shapeSize } from '../tensor.js';

function spec(
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  broadcastB: boolean,
  accumulate: boolean,
): MatmulSpec {
  return { batch, m, n, k, transA, transB, broadcastB, accumulate, dtype: getMatmulDtype() };
}

/**
 * bf16 copies of weights, valid while the weight's data buffer and version are unchanged. Under
 * bf16 a linear layer used to round its weight to bf16 on every call (forward, and again for the
 * input gradient); in a rollout that is every decode step for every layer. The copy is made once
 * and reused until the optimizer updates the weight (AdamW bumps `version`).
 */
const bf16Weights = new WeakMap<
  Tensor,
  { data: Float32Array; version: number; bits: Uint16Array }
>();

let cacheWeights = true;
/** Turn the bf16 weight cache off/on (benchmarks measure what it buys in one process). */
export function setBf16WeightCache(enabled: boolean): void {
  cacheWeights = enabled;
}

/** The cached bf16 bits of a leaf weight (only under bf16; null otherwise or for non-leaves). */
function weightBf16(w: Tensor): Uint16Array | null {
  if (!cacheWeights || getMatmulDtype() !== 'bf16' || !w.isLeaf) return null;
  const hit = bf16Weights.get(w);
  if (hit && hit.data === w.data && hit.version === w.version) return hit.bits;
  // A fresh array, not the old one overwritten: a backward still pending from before the update
  // keeps the copy its forward used.
  const bits = new Uint16Array(w.size);
  kernels().toBf16(w.data, bits, w.size);
  bf16Weights.set(w, { data: w.data, version: w.version, bits });
  return bits;
}

export interface MatmulOptions {
  /** use A transposed: A is stored [..., k, m] */
  transA?: boolean;
  /** use B transposed: B is stored [..., n, k] */
  transB?: boolean;
}

/**
 * C = op(A) · op(B) over leading batch dims. A: [...batch, m, k]; B: [...batch, k, n] or a
 * plain matrix [k, n] shared by every batch entry. (With transA/transB the last two dims of the
 * operand are swapped.) C: [...batch, m, n].
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  expectShape(a.rank >= 2 && b.rank >= 2, 'matmul', () => 'operands must have rank >= 2');
  const m = transA ? a.dim(-1) : a.dim(-2);
  const k = transA ? a.dim(-2) : a.dim(-1);
  const kb = transB ? b.dim(-1) : b.dim(-2);
  const n = transB ? b.dim(-2) : b.dim(-1);
  const batchShape = a.shape.slice(0, -2);
  const batch = shapeSize(batchShape);
  const broadcastB = b.rank === 2 && batchShape.length > 0;
  expectShape(
    k === kb &&
      (broadcastB ||
        (b.rank === a.rank && b.shape.slice(0, -2).every((d, i) => d === batchShape[i]))),
    'matmul',
    () =>
      `cannot multiply ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} by ${formatShape(b.shape)}${transB ? 'ᵀ' : ''}`,
  );
  const K = kernels();
  const out = allocF32(batch * m * n, false);
  K.matmul(a.data, b.data, out, spec(batch, m, n, k, transA, transB, broadcastB, false));
  return opResult('matmul', out, [...batchShape, m, n], [a, b], (c) => {
    const dc = c.grad!;
    if (a.requiresGrad) {
      const da = a.gradBuffer();
      if (!transA) {
        // dA[m,k] += dC[m,n] · op(B)ᵀ
        K.matmul(dc, b.data, da, spec(batch, m, k, n, false, !transB, broadcastB, true));
      } else if (!broadcastB) {
        // dA stored [k,m] += op(B)[k,n] · dCᵀ[n,m]
        K.matmul(b.data, dc, da, spec(batch, k, m, n, transB, true, false, true));
      } else {
        // op(B) is shared: one product per batch entry (the kernel only broadcasts B).
        for (let i = 0; i < batch; i++) {
          K.matmul(
            b.data,
            dc.subarray(i * m * n, (i + 1) * m * n),
            da.subarray(i * k * m, (i + 1) * k * m),
            spec(1, k, m, n, transB, true, false, true),
          );
        }
      }
    }
    if (b.requiresGrad) {
      const db = b.gradBuffer();
      if (broadcastB && !transA) {
        // Rows of every batch entry contribute to the shared B: fold the batch into m.
        if (!transB) K.matmul(a.data, dc, db, spec(1, k, n, batch * m, true, false, false, true));
        else K.matmul(dc, a.data, db, spec(1, n, k, batch * m, true, false, false, true));
      } else if (broadcastB) {
        for (let i = 0; i < batch; i++) {
          const ai = a.data.subarray(i * m * k, (i + 1) * m * k);
          const ci = dc.subarray(i * m * n, (i + 1) * m * n);
          if (!transB) K.matmul(ai, ci, db, spec(1, k, n, m, false, false, false, true));
          else K.matmul(ci, ai, db, spec(1, n, k, m, true, true, false, true));
        }
      } else if (!transB) {
        // dB[k,n] += op(A)ᵀ[k,m] · dC[m,n]
        K.matmul(a.data, dc, db, spec(batch, k, n, m, !transA, false, false, true));
      } else {
        // dB stored [n,k] += dCᵀ[n,m] · op(A)[m,k]
        K.matmul(dc, a.data, db, spec(batch, n, k, m, true, transA, false, true));
      }
    }
  });
}

/**
 * y = x · Wᵀ. x: [..., in]; w: [out, in]; y: [..., out]. All leading dims are folded into the
 * rows of one product, which is what makes the matmul large enough to run near peak.
 */
export function linear(x: Tensor, w: Tensor): Tensor {
  expectShape(
    w.rank === 2 && x.rank >= 1 && x.dim(-1) === w.dim(1),
    'linear',
    () =>
      `input ${formatShape(x.shape)} does not fit weight ${formatShape(w.shape)} (expected [..., ${w.rank === 2 ? w.dim(1) : '?'}])`,
  );
  const inF = w.dim(1);
  const outF = w.dim(0);
  const rows = x.size / inF;
  const K = kernels();
  const y = allocF32(rows * outF, false);
  const wBits = weightBf16(w);
  K.matmul(x.data, w.data, y, {
    ...spec(1, rows, outF, inF, false, true, false, false),
    bBf16: wBits,
  });
  return opResult('linear', y, [...x.shape.slice(0, -1), outF], [x, w], (out) => {
    const dy = out.grad!;
    // dx[rows,in] += dy[rows,out] · W[out,in]
    // (the weight cannot have changed between forward and backward: same bf16 copy)
    if (x.requiresGrad) {
      K.matmul(dy, w.data, x.gradBuffer(), {
        ...spec(1, rows, inF, outF, false, false, false, true),
        bBf16: wBits,
      });
    }
    // dW[out,in] += dyᵀ[out,rows] · x[rows,in]
    if (w.requiresGrad) {
      K.matmul(dy, x.data, w.gradBuffer(), spec(1, outF, inF, rows, true, false, false, true));
    }
  });
}
