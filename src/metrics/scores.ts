/** Scalar evaluation metrics: gIoU, cIoU, accuracy, N-Acc, ROC AUC, pass@k. */
import type { Overlap } from './masks.js';

/** gIoU: the mean of per-sample IoUs (a correctly empty answer counts 1). Empty input: 0. */
export function gIoU(perSample: readonly Overlap[]): number {
  if (perSample.length === 0) return 0;
  let s = 0;
  for (const o of perSample) s += o.union === 0 ? 1 : o.intersection / o.union;
  return s / perSample.length;
}

/** cIoU: total intersection over total union across samples; 1 when every union is empty. */
export function cIoU(perSample: readonly Overlap[]): number {
  let i = 0,
    u = 0;
  for (const o of perSample) {
    i += o.intersection;
    u += o.union;
  }
  return u === 0 ? (perSample.length === 0 ? 0 : 1) : i / u;
}

/** Fraction of true values (0 for an empty list). */
export function accuracy(correct: readonly boolean[]): number {
  if (correct.length === 0) return 0;
  let n = 0;
  for (const c of correct) if (c) n++;
  return n / correct.length;
}

/**
 * N-Acc: among samples whose truth is "no object", the fraction answered "no object".
 * Returns null when there are no such samples (the metric is undefined, not 0).
 */
export function nAcc(truthEmpty: readonly boolean[], predEmpty: readonly boolean[]): number | null {
  let n = 0,
    ok = 0;
  truthEmpty.forEach((t, i) => {
    if (!t) return;
    n++;
    if (predEmpty[i]) ok++;
  });
  return n === 0 ? null : ok / n;
}

/**
 * ROC AUC of scores against binary labels: the probability that a random positive outscores a
 * random negative, ties counting half (Mann–Whitney U with average ranks). Returns null when
 * either class is absent. O(n log n).
 */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number | null {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0,
    neg = 0,
    rankSumPos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && scores[idx[j]!] === scores[idx[i]!]) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1..j share their average
    for (let k = i; k < j; k++) if (labels[idx[k]!]) rankSumPos += avgRank;
    i = j;
  }
  for (const l of labels) l ? pos++ : neg++;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Unbiased pass@k from n samples of which c are correct: 1 − C(n−c, k)/C(n, k), computed as
 * 1 − Π_{i=n−c+1}^{n} (1 − k/i) so no large binomials are formed.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!(n >= 1) || !(k >= 1) || k > n || c < 0 || c > n)
    throw new RangeError(`pass@k needs 1 <= k <= n and 0 <= c <= n (n=${n}, c=${c}, k=${k})`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/** Mean pass@k over problems given (n, c) per problem. */
export function meanPassAtK(results: readonly { n: number; c: number }[], k: number): number {
  if (results.length === 0) return 0;
  return results.reduce((s, r) => s + passAtK(r.n, r.c, k), 0) / results.length;
}
