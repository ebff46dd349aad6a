/** RLVR (GRPO): each prompt's G rollouts with group-normalised advantages. */
import { groupNormalizedAdvantages } from '../../algorithms/index.js';
import { rolloutMembers, rolloutStats } from './common.js';
import type { Paradigm } from './types.js';

export const rlvr: Paradigm = {
  name: 'rlvr',
  samplesRollouts: true,
  injectsLabels: false,
  loss: 'policy',
  members: ({ items, groups, cfg, maxNewTokens }) => {
    const G = groups[0]?.length ?? 0;
    const rewards = groups.flatMap((g) => g.map((r) => r.reward.total));
    const { advantages } = groupNormalizedAdvantages(
      rewards,
      { groupSize: G },
      { std: cfg.advantage.std, eps: cfg.advantage.eps },
    );
    return {
      members: rolloutMembers(items, groups, (k, j) => advantages[k * G + j]!),
      stats: rolloutStats(items, groups, maxNewTokens),
    };
  },
};
