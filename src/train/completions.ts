/**
 * `completions.jsonl`: what the model actually answered. Every `log.completionsEvery` steps, for
 * the step's first `log.completionsPerStep` prompts, one line per prompt with its rollouts
 * (text, reward components, advantage) and its label (text, advantage) when the paradigm
 * trains on one — the view TRL and verl give of a run's samples.
 */
import type { Tokenizer } from '../model/index.js';
import type { PromptItem, ScoredRollout } from './paradigms/index.js';
import type { Member } from './update.js';

export interface CompletionLine {
  step: number;
  task: string;
  id: string;
  prompt: string;
  solution: string;
  rollouts: {
    response: string;
    reward: number;
    components: Record<string, number | null>;
    advantage: number | null;
  }[];
  label: { response: string; advantage: number } | null;
}

export function completionLines(
  step: number,
  items: readonly PromptItem[],
  groups: readonly (readonly ScoredRollout[])[],
  members: readonly Member[],
  tokenizer: Tokenizer,
  perStep: number,
): CompletionLine[] {
  return items.slice(0, perStep).map((it, k) => {
    const own = members.filter((m) => m.image === it.image);
    const rolloutMembers = own.filter((m) => m.kind === 'rollout');
    const label = own.find((m) => m.kind === 'label');
    return {
      step,
      task: it.sample.task,
      id: it.sample.id,
      prompt: it.sample.prompt,
      solution: it.sample.answer,
      rollouts: (groups[k] ?? []).map((r, j) => ({
        response: r.text,
        reward: r.reward.total,
        components: {
          thinkFormat: r.reward.thinkFormat ?? null,
          answerFormat: r.reward.answerFormat,
          accuracy: r.reward.accuracy,
          nonRepeat: r.reward.nonRepeat,
        },
        advantage: rolloutMembers[j]?.advantage ?? null,
      })),
      label: label
        ? {
            // the response without its <eos>
            response: tokenizer.decode(label.response.slice(0, -1)),
            advantage: label.advantage,
          }
        : null,
    };
  });
}
