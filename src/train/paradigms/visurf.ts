/**
 * ViSurf: each group gets its label as member G+1. The label is rendered in the rollouts'
 * style (control 1), scored without a thinking reward (control 2), and its reward smoothed to
 * the rollouts' mean where a rollout already matches it (control 3); advantages are normalised
 * over the union.
 */
import { alignLabelAnswer, labelResponseText, visurfAdvantages } from '../../algorithms/index.js';
import { mean } from '../../metrics/index.js';
import { splitResponse } from '../../rewards/index.js';
import type { Member } from '../update.js';
import {
  labelMember,
  labelReasoningOf,
  responseTokens,
  rolloutMembers,
  rolloutStats,
  scoreText,
} from './common.js';
import type { Paradigm } from './types.js';

export const visurf: Paradigm = {
  name: 'visurf',
  samplesRollouts: true,
  injectsLabels: true,
  loss: 'policy',
  members: ({ items, groups, cfg, tokenizer, maxNewTokens, reward }) => {
    const controls = cfg.controls;
    const G = groups[0]?.length ?? 0;
    // Without reasoning (the method's own setting) control 2 decides the label's think block;
    // with the teacher's or a borrowed trace the label is a full reply, scored as one.
    const reasoning = labelReasoningOf(cfg, 'none');
    const labelMembers: Member[] = [];
    let aligned = 0;
    const labelRewards = items.map((it, k) => {
      // each rollout's answer as the reward reads it (after its think block)
      const rolloutAnswers = groups[k]!.map((r) => splitResponse(r.text).answer).filter(
        (a): a is string => a !== null,
      );
      const answer = alignLabelAnswer(it.sample.answer, rolloutAnswers, {
        enabled: controls.align,
      });
      if (answer.aligned && controls.align) aligned++;
      if (reasoning === 'none') {
        const text = labelResponseText(answer.text, {
          eliminateThinking: controls.eliminateThinking,
          noThink: reward.noThink,
        });
        const response = responseTokens(text, tokenizer);
        labelMembers.push({
          kind: 'label',
          image: it.image,
          prompt: it.prompt,
          response,
          advantage: 1,
        });
        return scoreText(it.sample, text, reward).total;
      }
      const { member, text } = labelMember(it, answer.text, reasoning, tokenizer, groups[k]);
      labelMembers.push(member);
      return scoreText(it.sample, text, reward).total;
    });
    const rewards = groups.flatMap((g) => g.map((r) => r.reward.total));
    const adv = visurfAdvantages(rewards, labelRewards, G, {
      std: cfg.advantage.std,
      eps: cfg.advantage.eps,
      smooth: controls.smooth,
    });
    const labels: Member[] = labelMembers.map((m, k) => ({
      ...m,
      advantage: adv.labelAdvantages[k]!,
    }));
    const stats = rolloutStats(items, groups, maxNewTokens);
    stats.labelRewardBefore = mean([...adv.labelRewardsBefore]);
    stats.labelRewardAfter = mean([...adv.labelRewardsAfter]);
    stats.labelAdvantageMean = mean([...adv.labelAdvantages]);
    stats.smoothingFraction = mean(adv.smoothed.map((s) => (s ? 1 : 0)));
    stats.alignedFraction = items.length ? aligned / items.length : 0;
    return {
      // the update runs every rollout before any label (update.ts), so this order is the
      // order the gradients accumulate in
      members: [
        ...rolloutMembers(items, groups, (k, j) => adv.rolloutAdvantages[k * G + j]!),
        ...labels,
      ],
      stats,
    };
  },
};
