/**
 * How per-token losses of a batch of sequences become one scalar, as verl's
 * `agg_loss`. Tokens of all sequences are packed end to end:
 * values [T] with T = Σ seqLengths, optional mask [T] (1 = counted, 0 = ignored).
 *
 * Every mode is linear: loss = Σ_t w_t · l_t, so `aggregationWeights` gives
 * both the loss and its exact gradient (dLoss/dl_t = w_t).
 */

export type LossAggregation =
  /** Global token mean over the batch (DAPO): w_t = m_t / Σ m. */
  | 'token-mean'
  /** Token mean of each sequence, then mean over sequences (GRPO): w_t = m_t / (S · Σ_{t∈s} m). */
  | 'seq-mean-token-mean'
  /** Token sum of each sequence, then mean over sequences: w_t = m_t / S. */
  | 'seq-mean-token-sum'
  /**
   * Token sum of each sequence divided by a constant length L, then mean over
   * sequences (Dr.GRPO): w_t = m_t / (S · L). verl sums over sequences
   * instead of averaging; we follow the Dr.GRPO paper's 1/G.
   */
  | 'seq-mean-token-sum-norm';

/** Packed token layout of S sequences. */
export interface TokenLayout {
  /** [S] tokens per sequence; the values are packed in this order. */
  seqLengths: ArrayLike<number>;
  /** [T] 1 for tokens that count, 0 for ignored ones (prompt, padding); default all 1. */
  mask?: ArrayLike<number>;
}

export interface AggregationOptions {
  /** Default `'seq-mean-token-mean'` (GRPO). */
  aggregation?: LossAggregation;
  /**
   * [T] precomputed weights, used as they are (aggregation and normLength are then ignored):
   * a micro-batch passes its slice of the whole batch's weights, so the loss of the batch is the
   * sum of its micro-batches' losses.
   */
  weights?: ArrayLike<number>;
  /**
   * L of `'seq-mean-token-sum-norm'`; should be a constant such as the
   * configured max response length. Default: the longest sequence in the batch.
   */
  normLength?: number;
}

/** Total token count T of a layout; throws if the mask does not match it. */
export function layoutTokenCount(layout: TokenLayout): number {
  let total = 0;
  for (let s = 0; s < layout.seqLengths.length; s++) {
    const n = layout.seqLengths[s]!;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`sequence ${s} has length ${n}`);
    total += n;
  }
  if (layout.mask && layout.mask.length !== total)
    throw new RangeError(`mask has ${layout.mask.length} entries for ${total} tokens`);
  return total;
}

/**
 * Weights w [T] with loss = Σ_t w_t · l_t for the chosen mode. Sequences or
 * batches with no counted token get weight 0 (rather than verl's 0/0);
 * every sequence still counts in S.
 */
export function aggregationWeights(
  layout: TokenLayout,
  options: AggregationOptions = {},
): Float64Array {
  const mode = options.aggregation ?? 'seq-mean-token-mean';
  const total = layoutTokenCount(layout);
  if (options.weights) {
    if (options.weights.length !== total) {
      throw new Error(`aggregationWeights: ${options.weights.length} weights for ${total} tokens`);
    }
    return Float64Array.from(options.weights);
  }
  const mask = (t: number): number => (layout.mask ? layout.mask[t]! : 1);
  const nSeqs = layout.seqLengths.length;
  const weights = new Float64Array(total);
  if (mode === 'token-mean') {
    let counted = 0;
    for (let t = 0; t < total; t++) counted += mask(t);
    if (counted > 0) for (let t = 0; t < total; t++) weights[t] = mask(t) / counted;
    return weights;
  }
  let normLength = options.normLength ?? 0;
  if (options.normLength === undefined)
    for (let s = 0; s < nSeqs; s++) normLength = Math.max(normLength, layout.seqLengths[s]!);
  let start = 0;
  for (let s = 0; s < nSeqs; s++) {
    const end = start + layout.seqLengths[s]!;
    let counted = 0;
    for (let t = start; t < end; t++) counted += mask(t);
    const denominator =
      mode === 'seq-mean-token-mean'
        ? nSeqs * counted
        : mode === 'seq-mean-token-sum'
          ? nSeqs
          : nSeqs * normLength;
    if (denominator > 0) for (let t = start; t < end; t++) weights[t] = mask(t) / denominator;
    start = end;
  }
  return weights;
}

/** Σ_t w_t · v_t. */
export function weightedSum(weights: ArrayLike<number>, values: ArrayLike<number>): number {
  let sum = 0;
  for (let t = 0; t < weights.length; t++) if (weights[t] !== 0) sum += weights[t]! * values[t]!;
  return sum;
}

/** Aggregates per-token values [T] into one scalar with the chosen mode. */
export function aggregateTokens(
  values: ArrayLike<number>,
  layout: TokenLayout,
  options: AggregationOptions = {},
): number {
  const weights = aggregationWeights(layout, options);
  if (values.length !== weights.length)
    throw new RangeError(`${values.length} values for ${weights.length} tokens`);
  return weightedSum(weights, values);
}

/** Masked mean over all tokens (verl `masked_mean`); 0 when nothing is counted. */
export function maskedMean(values: ArrayLike<number>, mask?: ArrayLike<number>): number {
  let sum = 0;
  let counted = 0;
  for (let t = 0; t < values.length; t++) {
    const m = mask ? mask[t]! : 1;
    if (m !== 0) sum += m * values[t]!;
    counted += m;
  }
  return counted > 0 ? sum / counted : 0;
}
