/** Reductions and the log-probability family of losses. */
import { kernels } from '../kernels/index.js';
import { ShapeError, Tensor, expectShape, formatShape, opResult } from '../tensor.js';

/** Σ x as a scalar [1]. */
export function sum(x: Tensor): Tensor {
  let s = 0;
  for (let i = 0; i < x.size; i++) s += x.data[i]!;
  return opResult('sum', Float32Array.of(s), [1], [x], (y) => {
    const g = y.grad![0]!;
    const dx = x.gradBuffer();
    for (let i = 0; i < x.size; i++) dx[i]! += g;
  });
}

/** mean(x) as a scalar [1]. */
export function mean(x: Tensor): Tensor {
  return weightedSum(x, new Float32Array(x.size).fill(1 / x.size));
}

/** Σ w_i x_i as a scalar [1] for constant weights (masks and per-token loss weights). */
export function weightedSum(x: Tensor, w: ArrayLike<number>): Tensor {
  expectShape(w.length === x.size, 'weightedSum', () => `${w.length} weights for ${x.size} values`);
  let s = 0;
  for (let i = 0; i < x.size; i++) s += x.data[i]! * w[i]!;
  return opResult('weightedSum', Float32Array.of(s), [1], [x], (y) => {
    const g = y.grad![0]!;
    const dx = x.gradBuffer();
    for (let i = 0; i < x.size; i++) dx[i]! += g * w[i]!;
  });
}

export interface TokenLogprobs {
  /** log π(target) per row: [...rows] (0 where the target is < 0, i.e. ignored) */
  logp: Tensor;
  /** entropy of π per row, if requested */
  entropy: Tensor | null;
}

/**
 * Per-token log-probabilities of targets under softmax(logits), fused so the full-vocabulary
 * probabilities are never stored. logits: [..., vocab]; targets: one per row (-1 = ignore).
 */
export function tokenLogprobs(
  logits: Tensor,
  targets: Int32Array,
  withEntropy = false,
): TokenLogprobs {
  const vocab = logits.dim(-1);
  const rows = logits.size / vocab;
  const rowShape = logits.shape.slice(0, -1);
  expectShape(
    targets.length === rows,
    'tokenLogprobs',
    () => `${targets.length} targets for logits ${formatShape(logits.shape)}`,
  );
  for (let i = 0; i < rows; i++) {
    if (targets[i]! >= vocab)
      throw new ShapeError(`tokenLogprobs: target ${targets[i]} at row ${i} >= vocab ${vocab}`);
  }
  const K = kernels();
  const logpData = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const entData = withEntropy ? new Float32Array(rows) : null;
  K.logprobForward(logits.data, targets, logpData, lse, entData, rows, vocab);
  let entropy: Tensor | null = null;
  const logp = opResult('tokenLogprobs', logpData, rowShape, [logits], (lp) => {
    // One kernel call handles both outputs: the entropy's gradient (if any) waits in entropy.grad.
    const dent = entropy?.grad ?? null;
    K.logprobBackward(
      logits.data,
      targets,
      lse,
      entData,
      lp.grad!,
      dent,
      logits.gradBuffer(),
      rows,
      vocab,
    );
    if (entropy) entropy.grad = null;
  });
  if (entData) {
    // entropy depends on logp in the graph so its gradient is in place before logp's backward
    // runs (reverse topological order visits entropy first).
    entropy = opResult('entropy', entData, rowShape, [logp], () => {
      logp.gradBuffer();
    });
    entropy.retainGrad = true;
  }
  return { logp, entropy };
}

/** Mean negative log-likelihood over rows whose target is >= 0. */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  const { logp } = tokenLogprobs(logits, targets);
  let valid = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i]! >= 0) valid++;
  if (valid === 0) throw new ShapeError('crossEntropy: every target is ignored (< 0)');
  const w = new Float32Array(targets.length);
  for (let i = 0; i < targets.length; i++) w[i] = targets[i]! >= 0 ? -1 / valid : 0;
  return weightedSum(logp, w);
}
