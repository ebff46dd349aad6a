/**
 * LUFFY (Yan et al. 2025, "Learning to Reason under Off-Policy Guidance", arXiv 2504.14945): the
 * label (an expert's response: the teacher's trace and answer) joins its group as an off-policy
 * member; advantages are normalised over the G rollouts and the label together, and the label's
 * importance weight is shaped by f(p) = p/(p+γ) with no clipping (algorithms/policy-loss.ts
 * `shapedPolicyLoss`), so its low-probability tokens still get gradient.
 */
import { injectLabelAdvantages } from '../../algorithms/index.js';
import type { Member } from '../update.js';
import {
  labelMember,
  labelReasoningOf,
  rolloutMembers,
  rolloutStats,
  scoreText,
} from './common.js';
import type { Paradigm } from './types.js';

export const luffy: Paradigm = {
  name: 'luffy',
  samplesRollouts: true,
  injectsLabels: true,
  loss: 'policy',
  members: ({ items, groups, cfg, tokenizer, maxNewTokens, reward }) => {
    const G = groups[0]?.length ?? 0;
    const reasoning = labelReasoningOf(cfg, 'teacher');
    const built = items.map((it, k) =>
      labelMember(it, it.sample.answer, reasoning, tokenizer, groups[k]),
    );
    const adv = injectLabelAdvantages(
      groups.flatMap((g) => g.map((r) => r.reward.total)),
      items.map((it, k) => scoreText(it.sample, built[k]!.text, reward).total),
      G,
      { std: cfg.advantage.std, eps: cfg.advantage.eps },
    );
    const labels = built.map(({ member }, k): Member => ({
      ...member,
      advantage: adv.labelAdvantages[k]!,
      objective: 'shaped',
    }));
    const stats = rolloutStats(items, groups, maxNewTokens);
    stats.labelAdvantageMean =
      labels.reduce((a, m) => a + m.advantage, 0) / Math.max(1, labels.length);
    return {
      members: [
        ...rolloutMembers(items, groups, (k, j) => adv.rolloutAdvantages[k * G + j]!),
        ...labels,
      ],
      stats,
    };
  },
};
