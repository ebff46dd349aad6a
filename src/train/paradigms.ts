/**
 * The paradigms as strategies over one loop shape: each turns a step's prompts (and, for the RL
 * paradigms, their scored rollouts) into training members with advantages, plus the step's
 * reward diagnostics. The arithmetic lives in ../algorithms; this is the glue.
 */
import {
  alignLabelAnswer,
  answerContent,
  groupNormalizedAdvantages,
  labelResponseText,
  visurfAdvantages,
} from '../algorithms/index.js';
import { EOS, type Tokenizer } from '../model/index.js';
import { rewardForSample, referenceResponse, type Sample } from '../tasks/index.js';
import type { RewardBreakdown } from '../rewards/index.js';
import type { Member } from './update.js';

export type Phase = 'sft' | 'rlvr' | 'visurf';

export interface PromptItem {
  sample: Sample;
  prompt: number[];
  /** index of the sample's image in the step's ImageBatch */
  image: number;
}

export interface ScoredRollout {
  tokens: number[];
  text: string;
  reward: RewardBreakdown;
}

export interface RewardSettings {
  referenceSize: number;
  noThink: boolean;
}

export interface ViSurfControls {
  align: boolean;
  eliminateThinking: boolean;
  smooth: boolean;
}

export interface StepStats {
  rewardMean: number;
  rewardStd: number;
  /** mean of each reward component over rollouts */
  components: Record<string, number>;
  /** accuracy component as a fraction of its maximum, over rollouts */
  accuracyRate: number;
  /** fraction of groups whose rewards are all equal (no RL signal) */
  zeroVarianceFraction: number;
  labelRewardBefore: number;
  labelRewardAfter: number;
  labelAdvantageMean: number;
  smoothingFraction: number;
  alignedFraction: number;
  responseLength: number;
  /** fraction of rollouts that reached the token limit */
  truncatedFraction: number;
}

export function scoreText(sample: Sample, text: string, r: RewardSettings): RewardBreakdown {
  return rewardForSample(sample, text, { referenceSize: r.referenceSize, thinking: !r.noThink });
}

/** The label response a teacher writes: think trace (unless no-thinking) and answer. */
export function sftTarget(sample: Sample, noThink: boolean): string {
  return referenceResponse(sample, noThink ? null : sample.think);
}

/** A response's ids in the model's tokenizer, ending with <eos>. */
export function responseTokens(text: string, tokenizer: Tokenizer): number[] {
  return [...tokenizer.encode(text), EOS];
}

/** SFT: the labels (with their reasoning traces) as teacher-forced targets. */
export function sftMembers(
  items: readonly PromptItem[],
  noThink: boolean,
  tokenizer: Tokenizer,
): Member[] {
  return items.map((it) => ({
    kind: 'label',
    image: it.image,
    prompt: it.prompt,
    response: responseTokens(sftTarget(it.sample, noThink), tokenizer),
    advantage: 1,
  }));
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

function rolloutStats(
  groups: readonly (readonly ScoredRollout[])[],
  maxNewTokens: number,
): StepStats {
  const all = groups.flat();
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
    rewardStd: std(totals),
    components,
    accuracyRate: mean(all.map((r) => r.reward.accuracy / accuracyMax(r.reward))),
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
  };
}

/** Accuracy's maximum for a breakdown (3 for object lists, 1 for scalar answers). */
function accuracyMax(r: RewardBreakdown): number {
  return r.kind === 'objects' ? 3 : 1;
}

/** RLVR (GRPO): rollouts with group-normalised advantages. */
export function rlvrMembers(
  items: readonly PromptItem[],
  groups: readonly (readonly ScoredRollout[])[],
  opts: { std: 'sample' | 'population'; eps: number; maxNewTokens: number },
): { members: Member[]; stats: StepStats } {
  const G = groups[0]?.length ?? 0;
  const rewards = groups.flatMap((g) => g.map((r) => r.reward.total));
  const { advantages } = groupNormalizedAdvantages(
    rewards,
    { groupSize: G },
    { std: opts.std, eps: opts.eps },
  );
  const members: Member[] = [];
  groups.forEach((g, k) =>
    g.forEach((r, j) => {
      members.push({
        kind: 'rollout',
        image: items[k]!.image,
        prompt: items[k]!.prompt,
        response: r.tokens,
        advantage: advantages[k * G + j]!,
      });
    }),
  );
  return { members, stats: rolloutStats(groups, opts.maxNewTokens) };
}

/**
 * ViSurf: each group gets its label as member G+1. The label is rendered in the rollouts'
 * style (control 1), scored without a thinking reward (control 2), and its reward smoothed to
 * the rollouts' mean where a rollout already matches it (control 3); advantages are normalised
 * over the union.
 */
export function visurfMembers(
  items: readonly PromptItem[],
  groups: readonly (readonly ScoredRollout[])[],
  opts: {
    std: 'sample' | 'population';
    eps: number;
    maxNewTokens: number;
    controls: ViSurfControls;
    reward: RewardSettings;
    tokenizer: Tokenizer;
  },
): { members: Member[]; stats: StepStats } {
  const G = groups[0]?.length ?? 0;
  const labelTexts: string[] = [];
  let aligned = 0;
  const labelRewards = items.map((it, k) => {
    const rolloutAnswers = groups[k]!.map((r) => answerContent(r.text)).filter(
      (a): a is string => a !== undefined,
    );
    const answer = alignLabelAnswer(it.sample.answer, rolloutAnswers, {
      enabled: opts.controls.align,
    });
    if (answer.aligned && opts.controls.align) aligned++;
    const text = labelResponseText(answer.text, {
      eliminateThinking: opts.controls.eliminateThinking,
      noThink: opts.reward.noThink,
    });
    labelTexts.push(text);
    return scoreText(it.sample, text, opts.reward).total;
  });
  const rewards = groups.flatMap((g) => g.map((r) => r.reward.total));
  const adv = visurfAdvantages(rewards, labelRewards, G, {
    std: opts.std,
    eps: opts.eps,
    smooth: opts.controls.smooth,
  });
  const members: Member[] = [];
  groups.forEach((g, k) => {
    const it = items[k]!;
    g.forEach((r, j) => {
      members.push({
        kind: 'rollout',
        image: it.image,
        prompt: it.prompt,
        response: r.tokens,
        advantage: adv.rolloutAdvantages[k * G + j]!,
      });
    });
    members.push({
      kind: 'label',
      image: it.image,
      prompt: it.prompt,
      response: responseTokens(labelTexts[k]!, opts.tokenizer),
      advantage: adv.labelAdvantages[k]!,
    });
  });
  const stats = rolloutStats(groups, opts.maxNewTokens);
  stats.labelRewardBefore = mean([...adv.labelRewardsBefore]);
  stats.labelRewardAfter = mean([...adv.labelRewardsAfter]);
  stats.labelAdvantageMean = mean([...adv.labelAdvantages]);
  stats.smoothingFraction = mean(adv.smoothed.map((s) => (s ? 1 : 0)));
  stats.alignedFraction = items.length ? aligned / items.length : 0;
  return { members, stats };
}
