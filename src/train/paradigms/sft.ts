/** SFT: each prompt's label (with its reasoning trace) as a teacher-forced target; no rollouts. */
import { responseTokens, sftTarget } from './common.js';
import type { Paradigm } from './types.js';

export const sft: Paradigm = {
  name: 'sft',
  samplesRollouts: false,
  injectsLabels: true,
  loss: 'nll',
  members: ({ items, cfg, tokenizer }) => ({
    members: items.map((it) => ({
      kind: 'label',
      image: it.image,
      prompt: it.prompt,
      response: responseTokens(sftTarget(it.sample, cfg.noThink), tokenizer),
      advantage: 1,
    })),
  }),
};
