/**
 * ViSurf label injection: the ground-truth label joins each group of G
 * rollouts as member G+1, is scored by the same verifiers, and all G+1
 * advantages are normalised over the union U = {r(y)} ∪ {r(o_1..o_G)}:
 *
 *   Â_j = (r(o_j) − mean U) / (std U + ε),   Â_y = (r(y) − mean U) / (std U + ε)
 *
 * Shapes: rolloutRewards [nGroups·G] laid out group by group,
 * labelRewards [nGroups]; outputs in the same layouts.
 */

import { normaliseGroup, type AdvantageOptions, type GroupStats } from './advantages.js';
import { smoothLabelReward } from './reward-controls.js';

/** Per-group diagnostics of the union {label} ∪ rollouts. */
export interface UnionGroupDiagnostics {
  /** Mean of the union's G+1 rewards. */
  mean: number;
  /** Std of the union (sample or population, as configured). */
  std: number;
  /** All G+1 rewards equal: every advantage of the group is exactly 0. */
  zeroVariance: boolean;
}

export interface InjectedAdvantages {
  /** [nGroups·G] advantages of the rollouts over the union. */
  rolloutAdvantages: Float64Array;
  /** [nGroups] advantage Â_y of each group's label. */
  labelAdvantages: Float64Array;
  /** [nGroups] statistics of each union. */
  groups: UnionGroupDiagnostics[];
}

function checkLayout(nRollouts: number, nLabels: number, groupSize: number): void {
  if (!Number.isInteger(groupSize) || groupSize < 1)
    throw new RangeError(`groupSize must be a positive integer, got ${groupSize}`);
  if (nRollouts !== nLabels * groupSize)
    throw new RangeError(
      `${nRollouts} rollout rewards for ${nLabels} labels × group size ${groupSize}`,
    );
}

function unionDiagnostics(stats: GroupStats): UnionGroupDiagnostics {
  return { mean: stats.mean, std: stats.std, zeroVariance: stats.zeroVariance };
}

/**
 * Advantages of rollouts and labels over each union group (member order:
 * o_1..o_G, then y). Rewards are taken as given: apply the reward controls
 * first, or use `visurfAdvantages`.
 */
export function injectLabelAdvantages(
  rolloutRewards: ArrayLike<number>,
  labelRewards: ArrayLike<number>,
  groupSize: number,
  options: AdvantageOptions = {},
): InjectedAdvantages {
  const nGroups = labelRewards.length;
  checkLayout(rolloutRewards.length, nGroups, groupSize);
  const rolloutAdvantages = new Float64Array(rolloutRewards.length);
  const labelAdvantages = new Float64Array(nGroups);
  const groups: UnionGroupDiagnostics[] = [];
  const union = new Float64Array(groupSize + 1);
  for (let k = 0; k < nGroups; k++) {
    for (let j = 0; j < groupSize; j++) union[j] = rolloutRewards[k * groupSize + j]!;
    union[groupSize] = labelRewards[k]!;
    const { advantages, stats } = normaliseGroup(union, options);
    rolloutAdvantages.set(advantages.subarray(0, groupSize), k * groupSize);
    labelAdvantages[k] = advantages[groupSize]!;
    groups.push(unionDiagnostics(stats));
  }
  return { rolloutAdvantages, labelAdvantages, groups };
}

export interface VisurfAdvantages extends InjectedAdvantages {
  /** [nGroups] label rewards as the verifier gave them. */
  labelRewardsBefore: Float64Array;
  /** [nGroups] label rewards after smoothing (equal to before when it did not fire). */
  labelRewardsAfter: Float64Array;
  /** [nGroups] whether smoothing replaced the label's reward. */
  smoothed: boolean[];
}

/**
 * Smoothing (control 3, when `smooth`) followed by injection: the full
 * reward-to-advantage step of ViSurf for a batch of groups.
 */
export function visurfAdvantages(
  rolloutRewards: ArrayLike<number>,
  labelRewards: ArrayLike<number>,
  groupSize: number,
  options: AdvantageOptions & { smooth?: boolean } = {},
): VisurfAdvantages {
  const nGroups = labelRewards.length;
  checkLayout(rolloutRewards.length, nGroups, groupSize);
  const labelRewardsBefore = Float64Array.from(labelRewards);
  const labelRewardsAfter = new Float64Array(nGroups);
  const smoothed: boolean[] = [];
  const rollouts = Float64Array.from(rolloutRewards);
  for (let k = 0; k < nGroups; k++) {
    const group = rollouts.subarray(k * groupSize, (k + 1) * groupSize);
    const result = smoothLabelReward(labelRewardsBefore[k]!, group, options.smooth ?? true);
    labelRewardsAfter[k] = result.labelReward;
    smoothed.push(result.fired);
  }
  const injected = injectLabelAdvantages(rollouts, labelRewardsAfter, groupSize, options);
  return { ...injected, labelRewardsBefore, labelRewardsAfter, smoothed };
}
