/**
 * CHORD (Zhang et al. 2025, arXiv 2508.11408): GRPO on the rollouts plus the SFT loss on the
 * label, weighted (1 − μ) and μ, with μ decaying over the run (algorithms/chord.ts): imitation
 * first, exploration later. The two terms are normalised apart (update.ts `batchWeights`).
 */
import { chordMu, groupNormalizedAdvantages } from '../../algorithms/index.js';
import type { Member } from '../update.js';
import { labelMember, labelReasoningOf, rolloutMembers, rolloutStats } from './common.js';
import type { Paradigm } from './types.js';

export const chord: Paradigm = {
  name: 'chord',
  samplesRollouts: true,
  injectsLabels: true,
  loss: 'policy',
  members: ({ step, items, groups, cfg, tokenizer, maxNewTokens }) => {
    const mu = chordMu(step, {
      peak: cfg.chord.muPeak,
      valley: cfg.chord.muValley,
      warmupSteps: cfg.chord.muWarmupSteps,
      decaySteps:
        cfg.chord.muDecaySteps > 0 ? cfg.chord.muDecaySteps : cfg.steps - cfg.chord.muWarmupSteps,
    });
    const G = groups[0]?.length ?? 0;
    const { advantages } = groupNormalizedAdvantages(
      groups.flatMap((g) => g.map((r) => r.reward.total)),
      { groupSize: G },
      { std: cfg.advantage.std, eps: cfg.advantage.eps },
    );
    const rollouts = rolloutMembers(items, groups, (k, j) => advantages[k * G + j]!).map(
      (m): Member => ({ ...m, objective: 'clipped', coef: 1 - mu }),
    );
    const reasoning = labelReasoningOf(cfg, 'teacher');
    const labels = items.map((it, k): Member => ({
      ...labelMember(it, it.sample.answer, reasoning, tokenizer, groups[k]).member,
      objective: 'nll',
      coef: mu,
    }));
    return {
      members: [...rollouts, ...labels],
      stats: { ...rolloutStats(items, groups, maxNewTokens), mu },
    };
  },
};
