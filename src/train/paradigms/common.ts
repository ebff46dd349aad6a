/** Pieces several paradigms share: scoring a reply, the label's tokens, rollout statistics. */
import { EOS, type Tokenizer } from '../../model/index.js';
import {
  rewardForSample,
  referenceResponse,
  type CustomReward,
  type Sample,
} from '../../tasks/index.js';
import { MAX_ACCURACY, isWellFormed, type RewardBreakdown } from '../../rewards/index.js';
import { mean, sampleStd } from '../../metrics/index.js';
import { labelResponse, type LabelReasoning } from '../../algorithms/index.js';
import type { TrainConfig } from '../config.js';
import type { Member } from '../update.js';
import type { PromptItem, ScoredRollout, StepStats } from './types.js';

export interface RewardSettings {
  referenceSize: number;
  noThink: boolean;
  /** a user's reward module (reward.module), loaded once per run */
  custom?: CustomReward;
}

export function scoreText(sample: Sample, text: string, r: RewardSettings): RewardBreakdown {
  return rewardForSample(sample, text, {
    referenceSize: r.referenceSize,
    thinking: !r.noThink,
    ...(r.custom ? { custom: r.custom } : {}),
  });
}

/** The label response a teacher writes: think trace (unless no-thinking) and answer. */
export function sftTarget(sample: Sample, noThink: boolean): string {
  return referenceResponse(sample, noThink ? null : sample.think);
}

/**
 * The reasoning a label carries under a config: `label.reasoning`, or the method's own when it
 * says `method`; never any under noThink.
 */
export function labelReasoningOf(cfg: TrainConfig, methodDefault: LabelReasoning): LabelReasoning {
  if (cfg.noThink) return 'none';
  return cfg.label.reasoning === 'method' ? methodDefault : cfg.label.reasoning;
}

/**
 * A label member: its response under `reasoning` (the teacher's trace, or borrowed from the
 * prompt's scored group) in the model's tokens, the borrowed reasoning excluded from the loss.
 */
export function labelMember(
  it: PromptItem,
  answer: string,
  reasoning: LabelReasoning,
  tokenizer: Tokenizer,
  group?: readonly ScoredRollout[],
): { member: Member; text: string } {
  const label = labelResponse(answer, reasoning, {
    teacher: it.sample.think ?? null,
    ...(group ? { group: group.map((r) => ({ text: r.text, reward: r.reward.total })) } : {}),
  });
  const member: Member = {
    kind: 'label',
    image: it.image,
    prompt: it.prompt,
    response: responseTokens(label.text, tokenizer),
    advantage: 1,
  };
  if (label.context) member.lossFrom = tokenizer.encode(label.context).length;
  return { member, text: label.text };
}

/** A response's ids in the model's tokenizer, ending with <eos>. */
export function responseTokens(text: string, tokenizer: Tokenizer): number[] {
  return [...tokenizer.encode(text), EOS];
}

/** The reward diagnostics of a step's rollouts (the label fields NaN: no label). */
export function rolloutStats(
  items: readonly PromptItem[],
  groups: readonly (readonly ScoredRollout[])[],
  maxNewTokens: number,
): StepStats {
  const all = groups.flat();
  const rateByTask = new Map<string, number[]>();
  groups.forEach((g, k) => {
    const rates = rateByTask.get(items[k]!.sample.task) ?? [];
    for (const r of g) rates.push(r.reward.maxTotal > 0 ? r.reward.total / r.reward.maxTotal : 0);
    rateByTask.set(items[k]!.sample.task, rates);
  });
  const totals = all.map((r) => r.reward.total);
  const keys = ['thinkFormat', 'answerFormat', 'accuracy', 'nonRepeat'] as const;
  const components: Record<string, number> = {};
  for (const k of keys) {
    const vals = all.map((r) => r.reward[k]).filter((v): v is number => typeof v === 'number');
    if (vals.length) components[k] = mean(vals);
  }
  const zeroVar = groups.filter((g) =>
    g.every((r) => r.reward.total === g[0]!.reward.total),
  ).length;
  return {
    rewardMean: mean(totals),
    rewardStd: sampleStd(totals),
    components,
    accuracyRate: mean(all.map((r) => r.reward.accuracy / MAX_ACCURACY[r.reward.kind])),
    zeroVarianceFraction: groups.length ? zeroVar / groups.length : 0,
    labelRewardBefore: NaN,
    labelRewardAfter: NaN,
    labelAdvantageMean: NaN,
    smoothingFraction: NaN,
    alignedFraction: NaN,
    responseLength: mean(all.map((r) => r.tokens.length)),
    truncatedFraction: mean(
      all.map((r) =>
        r.tokens.length >= maxNewTokens && r.tokens[r.tokens.length - 1] !== EOS ? 1 : 0,
      ),
    ),
    rewardRate: mean([...rateByTask.values()].map(mean)),
    formatRate: mean(all.map((r) => (isWellFormed(r.reward) ? 1 : 0))),
  };
}

/** Each prompt's rollouts as policy members with the given per-rollout advantages. */
export function rolloutMembers(
  items: readonly { image: number; prompt: number[] }[],
  groups: readonly (readonly ScoredRollout[])[],
  advantageOf: (prompt: number, rollout: number) => number,
) {
  return groups.flatMap((g, k) =>
    g.map((r, j) => ({
      kind: 'rollout' as const,
      image: items[k]!.image,
      prompt: items[k]!.prompt,
      response: r.tokens,
      advantage: advantageOf(k, j),
    })),
  );
}
