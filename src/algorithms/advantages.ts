/**
 * Group-normalised advantages (GRPO), in the style of verl's
 * `compute_grpo_outcome_advantage`: each rollout's scalar reward is compared
 * with the other rollouts sampled for the same prompt.
 *
 *   Â_i = (r_i − mean_g r) / (std_g r + ε)        (GRPO)
 *   Â_i =  r_i − mean_g r                          (Dr.GRPO: no std division)
 *
 * Shapes: rewards [N] (N = nGroups·groupSize when a group size is given),
 * advantages [N], one statistic per group.
 */

/** How the group's spread is measured. */
export type StdKind =
  /** Unbiased, divides by n−1: `torch.std` as used by verl / EasyR1 (default). */
  | 'sample'
  /** Biased, divides by n. */
  | 'population';

export interface AdvantageOptions {
  /** Spread estimator; default `'sample'`, as verl / EasyR1. */
  std?: StdKind;
  /** Added to the std before dividing; default 1e-6 as verl. */
  eps?: number;
  /** Divide by the std (GRPO, default true) or only subtract the mean (Dr.GRPO, false). */
  scaleByStd?: boolean;
}

/** Mean, spread and degeneracy of one group's rewards. */
export interface GroupStats {
  mean: number;
  std: number;
  /** Number of members. */
  size: number;
  /**
   * True when every member has the same reward (this includes groups of
   * one). Such a group carries no learning signal: its advantages are exactly 0.
   */
  zeroVariance: boolean;
}

export const DEFAULT_ADVANTAGE_EPS = 1e-6;

/**
 * Mean with one refinement pass: `m + Σ(x−m)/n` cancels most of the
 * rounding of the plain sum, so that e.g. a label reward set to the
 * rollouts' mean sits exactly on the union's mean whenever possible.
 */
export function refinedMean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const rough = sum / n;
  let correction = 0;
  for (let i = 0; i < n; i++) correction += values[i]! - rough;
  return rough + correction / n;
}

/**
 * Statistics of one group. A group of one has no spread (sample std is
 * undefined for n = 1) and is reported as zero-variance, so its advantage is 0.
 */
export function groupStats(rewards: ArrayLike<number>, std: StdKind = 'sample'): GroupStats {
  const size = rewards.length;
  const m = refinedMean(rewards);
  let min = Infinity;
  let max = -Infinity;
  let squares = 0;
  for (let i = 0; i < size; i++) {
    const r = rewards[i]!;
    if (r < min) min = r;
    if (r > max) max = r;
    squares += (r - m) * (r - m);
  }
  const zeroVariance = size <= 1 || min === max;
  const dof = std === 'sample' ? size - 1 : size;
  const spread = zeroVariance || dof <= 0 ? 0 : Math.sqrt(squares / dof);
  return { mean: m, std: spread, size, zeroVariance };
}

/**
 * Advantages of one group's members. Zero-variance groups (all rewards equal,
 * or a single member) get exactly 0 — verl would give `0/ε` rounding noise for
 * the former and `r/(1+ε)` for a single member; we give no signal instead,
 * because one sample has no baseline to be compared with.
 *
 * rewards [G] → advantages [G]
 */
export function normaliseGroup(
  rewards: ArrayLike<number>,
  options: AdvantageOptions = {},
): { advantages: Float64Array; stats: GroupStats } {
  const stats = groupStats(rewards, options.std ?? 'sample');
  const advantages = new Float64Array(rewards.length);
  if (stats.zeroVariance) return { advantages, stats };
  const scale =
    options.scaleByStd === false ? 1 : stats.std + (options.eps ?? DEFAULT_ADVANTAGE_EPS);
  for (let i = 0; i < rewards.length; i++) advantages[i] = (rewards[i]! - stats.mean) / scale;
  return { advantages, stats };
}

/** Which group each reward belongs to: a fixed group size, or one id per reward. */
export type Grouping = { groupSize: number } | { groupIds: ArrayLike<number | string> };

/**
 * Member indices of each group, in order of first appearance.
 * `{groupSize: G}` requires N to be a multiple of G (contiguous groups, as
 * rollouts are laid out prompt by prompt).
 */
export function groupIndices(n: number, grouping: Grouping): number[][] {
  if ('groupSize' in grouping) {
    const g = grouping.groupSize;
    if (!Number.isInteger(g) || g < 1)
      throw new RangeError(`groupSize must be a positive integer, got ${g}`);
    if (n % g !== 0) throw new RangeError(`${n} rewards do not split into groups of ${g}`);
    return Array.from({ length: n / g }, (_, k) => Array.from({ length: g }, (_, j) => k * g + j));
  }
  const ids = grouping.groupIds;
  if (ids.length !== n) throw new RangeError(`${ids.length} group ids for ${n} rewards`);
  const byId = new Map<number | string, number[]>();
  for (let i = 0; i < n; i++) {
    const members = byId.get(ids[i]!);
    if (members) members.push(i);
    else byId.set(ids[i]!, [i]);
  }
  return [...byId.values()];
}

/**
 * GRPO outcome advantages for a batch of groups.
 *
 * rewards [N], grouping → advantages [N] (same order as rewards),
 * stats [nGroups] (groups in order of first appearance).
 */
export function groupNormalizedAdvantages(
  rewards: ArrayLike<number>,
  grouping: Grouping,
  options: AdvantageOptions = {},
): { advantages: Float64Array; stats: GroupStats[] } {
  const advantages = new Float64Array(rewards.length);
  const stats: GroupStats[] = [];
  for (const members of groupIndices(rewards.length, grouping)) {
    const group = normaliseGroup(
      members.map((i) => rewards[i]!),
      options,
    );
    members.forEach((i, j) => (advantages[i] = group.advantages[j]!));
    stats.push(group.stats);
  }
  return { advantages, stats };
}
