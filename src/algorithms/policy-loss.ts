/**
 * Token-level losses with their exact gradients with respect to the
 * per-token log-probabilities, in the style of verl's `compute_policy_loss`,
 * `kl_penalty` and `agg_loss`. The trainer hands `dLossDLogp` to the engine,
 * which backpropagates it through the log-softmax into the model.
 *
 * Shapes: tokens of S sequences packed end to end, T = Σ seqLengths.
 * logp, oldLogp, refLogp, mask [T]; advantages [T] or [S] (broadcast to each
 * sequence's tokens).
 */

import {
  aggregationWeights,
  layoutTokenCount,
  maskedMean,
  weightedSum,
  type AggregationOptions,
  type TokenLayout,
} from './aggregation.js';

/** Result of a token-level loss. */
export interface TokenLossResult {
  loss: number;
  /** [T] exact dLoss/dlogp_t for the chosen aggregation (0 on masked tokens). */
  dLossDLogp: Float64Array;
  /** Fraction of counted tokens whose clipped branch was taken (0 for losses without clipping). */
  clipFraction: number;
  /** Masked token mean of oldLogp − logp, verl's `ppo_kl` (0 for losses without an old policy). */
  approxKl: number;
}

export interface PolicyLossInput extends TokenLayout {
  /** [T] log π_θ of each sampled token (current policy). */
  logp: ArrayLike<number>;
  /** [T] log π_old of the same tokens (the policy that sampled them). */
  oldLogp: ArrayLike<number>;
  /** [T] per-token or [S] per-sequence advantages. */
  advantages: ArrayLike<number>;
}

export interface PolicyLossOptions extends AggregationOptions {
  /** ε_low: ratios below 1 − clipLow are clipped for negative advantages; default 0.2. */
  clipLow?: number;
  /** ε_high: ratios above 1 + clipHigh are clipped for positive advantages; default 0.2. */
  clipHigh?: number;
}

/** verl clamps log-ratios to ±20 before exponentiating; so do we. */
const LOG_RATIO_LIMIT = 20;

/** Per-token advantages [T]: copied, or broadcast from [S] per-sequence values. */
export function tokenAdvantages(advantages: ArrayLike<number>, layout: TokenLayout): Float64Array {
  const total = layoutTokenCount(layout);
  if (advantages.length === total) return Float64Array.from(advantages);
  const nSeqs = layout.seqLengths.length;
  if (advantages.length !== nSeqs)
    throw new RangeError(
      `${advantages.length} advantages: need ${total} (per token) or ${nSeqs} (per sequence)`,
    );
  const perToken = new Float64Array(total);
  let start = 0;
  for (let s = 0; s < nSeqs; s++) {
    perToken.fill(advantages[s]!, start, start + layout.seqLengths[s]!);
    start += layout.seqLengths[s]!;
  }
  return perToken;
}

function checkLength(name: string, values: ArrayLike<number>, total: number): void {
  if (values.length !== total)
    throw new RangeError(`${name} has ${values.length} entries for ${total} tokens`);
}

/**
 * PPO/GRPO clipped surrogate with separate low/high clip ranges:
 *
 *   ρ_t = exp(logp_t − oldLogp_t)
 *   l_t = max(−A_t ρ_t, −A_t clip(ρ_t, 1 − clipLow, 1 + clipHigh))
 *   loss = Σ_t w_t l_t          (w from the aggregation mode)
 *
 * Gradient: dl_t/dlogp_t = −A_t ρ_t on the unclipped branch, 0 where the
 * clipped branch is strictly larger (A > 0, ρ > 1 + clipHigh or A < 0,
 * ρ < 1 − clipLow), so dLoss/dlogp_t = w_t · dl_t/dlogp_t.
 */
export function policyLoss(
  input: PolicyLossInput,
  options: PolicyLossOptions = {},
): TokenLossResult {
  const clipLow = options.clipLow ?? 0.2;
  const clipHigh = options.clipHigh ?? 0.2;
  const weights = aggregationWeights(input, options);
  const total = weights.length;
  checkLength('logp', input.logp, total);
  checkLength('oldLogp', input.oldLogp, total);
  const advantages = tokenAdvantages(input.advantages, input);
  const tokenLoss = new Float64Array(total);
  const dLossDLogp = new Float64Array(total);
  const clipped = new Float64Array(total);
  const oldMinusNew = new Float64Array(total);
  for (let t = 0; t < total; t++) {
    const logRatio = input.logp[t]! - input.oldLogp[t]!;
    oldMinusNew[t] = -logRatio;
    const limited = Math.min(LOG_RATIO_LIMIT, Math.max(-LOG_RATIO_LIMIT, logRatio));
    const ratio = Math.exp(limited);
    const a = advantages[t]!;
    const unclippedLoss = -a * ratio;
    const clippedLoss = -a * Math.min(1 + clipHigh, Math.max(1 - clipLow, ratio));
    const takesClipped = clippedLoss > unclippedLoss;
    clipped[t] = takesClipped ? 1 : 0;
    tokenLoss[t] = takesClipped ? clippedLoss : unclippedLoss;
    const ratioIsLive = limited === logRatio;
    dLossDLogp[t] =
      takesClipped || !ratioIsLive || weights[t] === 0 ? 0 : weights[t]! * unclippedLoss;
  }
  return {
    loss: weightedSum(weights, tokenLoss),
    dLossDLogp,
    clipFraction: maskedMean(clipped, input.mask),
    approxKl: maskedMean(oldMinusNew, input.mask),
  };
}

export interface ShapedLossInput extends TokenLayout {
  /** [T] log π_θ of the off-policy member's tokens. */
  logp: ArrayLike<number>;
  /** [T] per-token or [S] per-sequence advantages. */
  advantages: ArrayLike<number>;
}

export interface ShapedLossOptions extends AggregationOptions {
  /** γ of f(p) = p / (p + γ); default 0.1 (LUFFY's). */
  gamma?: number;
}

/**
 * LUFFY's policy shaping for an off-policy member (an expert's or the label's tokens, whose
 * behaviour probability is taken as 1): the importance ratio π_θ(t) / 1 is replaced by
 * f(p) = p / (p + γ), and nothing is clipped:
 *
 *   p_t = exp(logp_t),   l_t = −A_t f(p_t),   loss = Σ_t w_t l_t
 *   dl_t/dlogp_t = −A_t · p_t f'(p_t) = −A_t · γ p_t / (p_t + γ)²
 *
 * Against a plain ratio (gradient −A·p), the factor γ/(p+γ)² boosts the label's unlikely
 * tokens — the ones the policy would not produce (×8.3 at p = 0.01, γ = 0.1) — and damps the
 * ones it already produces (×0.08 at p = 0.99).
 */
export function shapedPolicyLoss(
  input: ShapedLossInput,
  options: ShapedLossOptions = {},
): TokenLossResult {
  const gamma = options.gamma ?? 0.1;
  const weights = aggregationWeights(input, options);
  const total = weights.length;
  checkLength('logp', input.logp, total);
  const advantages = tokenAdvantages(input.advantages, input);
  const tokenLoss = new Float64Array(total);
  const dLossDLogp = new Float64Array(total);
  for (let t = 0; t < total; t++) {
    const p = Math.exp(Math.min(0, input.logp[t]!));
    const a = advantages[t]!;
    tokenLoss[t] = (-a * p) / (p + gamma);
    dLossDLogp[t] = weights[t] === 0 ? 0 : (weights[t]! * -a * gamma * p) / (p + gamma) ** 2;
  }
  return { loss: weightedSum(weights, tokenLoss), dLossDLogp, clipFraction: 0, approxKl: 0 };
}

export interface SftLossInput extends TokenLayout {
  /** [T] log π_θ of the label's tokens under teacher forcing. */
  logp: ArrayLike<number>;
}

/**
 * Negative log-likelihood of the label, token-mean by default:
 * loss = −Σ_t w_t logp_t, dLoss/dlogp_t = −w_t. Same result shape as
 * `policyLoss`, with clipFraction = approxKl = 0.
 */
export function sftLoss(input: SftLossInput, options: AggregationOptions = {}): TokenLossResult {
  const weights = aggregationWeights(input, { aggregation: 'token-mean', ...options });
  checkLength('logp', input.logp, weights.length);
  const dLossDLogp = weights.map((w) => (w === 0 ? 0 : -w));
  return { loss: -weightedSum(weights, input.logp), dLossDLogp, clipFraction: 0, approxKl: 0 };
}

/** Estimator of KL(π_θ ‖ π_ref) per token. */
export type KlKind =
  /** k1 = logp − refLogp (verl `kl`). */
  | 'k1'
  /** k3 = exp(ref − logp) − (ref − logp) − 1, clamped to [−10, 10] (verl `low_var_kl`). */
  | 'k3';

/**
 * Per-token KL penalty against a frozen reference and its gradient wrt logp.
 * k1: dk/dlogp = 1. k3 with δ = ref − logp (clamped to ±20 as verl):
 * dk/dlogp = 1 − exp(δ), and 0 wherever a clamp is active.
 *
 * logp, refLogp [T] → kl, dKlDLogp [T]
 */
export function klPenalty(
  logp: ArrayLike<number>,
  refLogp: ArrayLike<number>,
  kind: KlKind,
): { kl: Float64Array; dKlDLogp: Float64Array } {
  checkLength('refLogp', refLogp, logp.length);
  const kl = new Float64Array(logp.length);
  const dKlDLogp = new Float64Array(logp.length);
  for (let t = 0; t < logp.length; t++) {
    const delta = refLogp[t]! - logp[t]!;
    if (kind === 'k1') {
      kl[t] = -delta;
      dKlDLogp[t] = 1;
      continue;
    }
    const limited = Math.min(LOG_RATIO_LIMIT, Math.max(-LOG_RATIO_LIMIT, delta));
    const raw = Math.exp(limited) - limited - 1;
    kl[t] = Math.min(10, Math.max(-10, raw));
    dKlDLogp[t] = limited === delta && raw <= 10 ? 1 - Math.exp(limited) : 0;
  }
  return { kl, dKlDLogp };
}

export interface KlLossInput extends TokenLayout {
  logp: ArrayLike<number>;
  refLogp: ArrayLike<number>;
}

/**
 * Aggregated KL loss (to be scaled by the KL coefficient by the caller):
 * loss = Σ_t w_t kl_t, dLoss/dlogp_t = w_t · dkl_t/dlogp_t.
 */
export function klLoss(
  input: KlLossInput,
  kind: KlKind,
  options: AggregationOptions = {},
): { loss: number; dLossDLogp: Float64Array } {
  const weights = aggregationWeights(input, options);
  checkLength('logp', input.logp, weights.length);
  const { kl, dKlDLogp } = klPenalty(input.logp, input.refLogp, kind);
  return {
    loss: weightedSum(weights, kl),
    dLossDLogp: dKlDLogp.map((g, t) => (weights[t] === 0 ? 0 : g * weights[t]!)),
  };
}

/**
 * Entropy of each row of logits (natural log), computed through a stable
 * log-softmax. logits [T·V] row-major → entropy [T].
 */
export function entropyFromLogits(logits: ArrayLike<number>, vocabSize: number): Float64Array {
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || logits.length % vocabSize !== 0)
    throw new RangeError(`${logits.length} logits do not split into rows of ${vocabSize}`);
  const rows = logits.length / vocabSize;
  const entropy = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * vocabSize;
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v++) max = Math.max(max, logits[base + v]!);
    let z = 0;
    for (let v = 0; v < vocabSize; v++) z += Math.exp(logits[base + v]! - max);
    const logZ = Math.log(z);
    let h = 0;
    for (let v = 0; v < vocabSize; v++) {
      const logProb = logits[base + v]! - max - logZ;
      if (logProb > -Infinity) h -= Math.exp(logProb) * logProb;
    }
    entropy[r] = h;
  }
  return entropy;
}

/** Per-token entropies [T] aggregated like a loss (token-mean by default, for logging). */
export function aggregateEntropy(
  entropy: ArrayLike<number>,
  layout: TokenLayout,
  options: AggregationOptions = { aggregation: 'token-mean' },
): number {
  const weights = aggregationWeights(layout, options);
  checkLength('entropy', entropy, weights.length);
  return weightedSum(weights, entropy);
}
