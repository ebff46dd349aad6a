/** SFT: each prompt's label (with its reasoning trace) as a teacher-forced target; no rollouts. */
import { labelMember, labelReasoningOf } from './common.js';
import type { Paradigm } from './types.js';

export const sft: Paradigm = {
  name: 'sft',
  samplesRollouts: false,
  injectsLabels: true,
  loss: 'nll',
  // label.reasoning borrowed is refused for SFT (config.ts): it has no rollouts to borrow from,
  // and sampling some would give the SFT baseline generation cost it does not have in the paper
  members: ({ items, cfg, tokenizer }) => {
    const reasoning = labelReasoningOf(cfg, 'teacher');
    return {
      members: items.map((it) => labelMember(it, it.sample.answer, reasoning, tokenizer).member),
    };
  },
};
