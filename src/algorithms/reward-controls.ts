/**
 * ViSurf's three reward controls for the injected label, as pure functions.
 * Each is on by default and switchable for ablation:
 *
 * 1. `align` — render the label in the policy's own answer style
 *    (see `label-alignment.ts`); off: the dataset's raw answer string.
 * 2. `eliminateThinking` — the label has no reasoning trace, so its
 *    thinking-format reward is 0 and reasoning is learned only from rollouts;
 *    off: the label is scored as if wrapped in an empty `<think></think>`.
 * 3. `smooth` — when a rollout already matches or beats the label
 *    (`max_j r(o_j) ≥ r(y)`), set `r(y) ← mean_j r(o_j)` so `Â_y ≈ 0` and no
 *    external supervision is applied where the model can solve the input.
 */

import { refinedMean } from './advantages.js';

export interface RewardControls {
  align: boolean;
  eliminateThinking: boolean;
  smooth: boolean;
}

export const DEFAULT_REWARD_CONTROLS: Readonly<RewardControls> = Object.freeze({
  align: true,
  eliminateThinking: true,
  smooth: true,
});

/** Fills unspecified controls with their defaults (all on). */
export function rewardControls(overrides: Partial<RewardControls> = {}): RewardControls {
  return { ...DEFAULT_REWARD_CONTROLS, ...overrides };
}

/** Named reward components of one response, e.g. `{thinkFormat: 1, answerFormat: 2, accuracy: 3}`. */
export type RewardComponents = Readonly<Record<string, number>>;

/** The component name of the thinking-format reward. */
export const THINK_FORMAT_COMPONENT = 'thinkFormat';

export interface LabelTextOptions {
  /** Control 2: score the label without any thinking block. */
  eliminateThinking: boolean;
  /** NoThink variant: responses never contain `<think>`, whatever the controls say. */
  noThink?: boolean;
}

/**
 * The full response text under which the label is scored by the verifiers.
 *
 * - NoThink, or thinking eliminated: `<answer>A</answer>` — no thinking
 *   block, so the thinking-format verifier gives it 0 by construction;
 * - otherwise: `<think></think><answer>A</answer>` — an empty reasoning
 *   trace that passes the thinking-format check.
 */
export function labelResponseText(labelAnswerText: string, options: LabelTextOptions): string {
  const answer = `<answer>${labelAnswerText}</answer>`;
  return options.noThink || options.eliminateThinking ? answer : `<think></think>${answer}`;
}

/**
 * Control 2 over reward components: the label's thinking-format component is
 * forced to 0 when `eliminateThinking` is on (whatever the verifier said),
 * left as scored otherwise. Returns a new object.
 */
export function labelRewardComponents(
  components: RewardComponents,
  controls: Pick<RewardControls, 'eliminateThinking'>,
  thinkComponent: string = THINK_FORMAT_COMPONENT,
): RewardComponents {
  if (!controls.eliminateThinking || !(thinkComponent in components)) return { ...components };
  return { ...components, [thinkComponent]: 0 };
}

/** Sum of the reward components: the scalar reward. */
export function totalReward(components: RewardComponents): number {
  let total = 0;
  for (const value of Object.values(components)) total += value;
  return total;
}

export interface SmoothedLabelReward {
  /** Reward used for the label after the control. */
  labelReward: number;
  /** Reward the verifier gave the label. */
  originalLabelReward: number;
  /** True when `max_j r(o_j) ≥ r(y)` and the reward was replaced. */
  fired: boolean;
}

/**
 * Control 3 for one group: if some rollout reaches the label's reward,
 * replace the label's reward by the rollouts' mean. A group without
 * rollouts never fires. Disabled: returns the reward unchanged.
 *
 * rolloutRewards [G], labelReward scalar
 */
export function smoothLabelReward(
  labelReward: number,
  rolloutRewards: ArrayLike<number>,
  enabled = true,
): SmoothedLabelReward {
  const unchanged = { labelReward, originalLabelReward: labelReward, fired: false };
  if (!enabled || rolloutRewards.length === 0) return unchanged;
  let best = -Infinity;
  for (let j = 0; j < rolloutRewards.length; j++) best = Math.max(best, rolloutRewards[j]!);
  if (best < labelReward) return unchanged;
  return {
    labelReward: refinedMean(rolloutRewards),
    originalLabelReward: labelReward,
    fired: true,
  };
}
