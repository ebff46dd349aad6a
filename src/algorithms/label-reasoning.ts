/**
 * The reasoning a label carries (config `label.reasoning`), the same setting for every method
 * that trains on labels:
 * - `none`: the answer alone, `<answer>A</answer>`;
 * - `teacher`: the task generator's reasoning trace, `<think>T</think><answer>A</answer>`;
 * - `borrowed`: the group's own best rollout's reasoning followed by the ground-truth answer,
 *   `<think>R</think><answer>A</answer>`, where only the answer span is supervised — the label
 *   then fixes the answer inside the model's own reasoning and never teaches it to skip, or to
 *   copy, reasoning.
 */
export type LabelReasoning = 'none' | 'teacher' | 'borrowed';

export interface ScoredText {
  text: string;
  reward: number;
}

/**
 * The reasoning of the best rollout of a group that has one: the content of the first closed
 * `<think>…</think>` of the highest-reward rollout (the first such on ties); null when no rollout
 * closes a think block.
 */
export function borrowedReasoning(group: readonly ScoredText[]): string | null {
  let best: { think: string; reward: number } | null = null;
  for (const r of group) {
    const open = r.text.indexOf('<think>');
    const close = open < 0 ? -1 : r.text.indexOf('</think>', open + 7);
    if (close < 0) continue;
    if (best === null || r.reward > best.reward)
      best = { think: r.text.slice(open + 7, close), reward: r.reward };
  }
  return best?.think ?? null;
}

export interface LabelResponse {
  /** the label's full response text */
  text: string;
  /** its leading part that carries no loss (the borrowed reasoning); '' when all is supervised */
  context: string;
}

/**
 * A label's response under a reasoning setting. `borrowed` without a rollout to borrow from
 * (none closes a think block) falls back to `none`.
 */
export function labelResponse(
  answer: string,
  reasoning: LabelReasoning,
  source: { teacher: string | null; group?: readonly ScoredText[] },
): LabelResponse {
  const answerPart = `<answer>${answer}</answer>`;
  if (reasoning === 'teacher' && source.teacher !== null)
    return { text: `<think>${source.teacher}</think>${answerPart}`, context: '' };
  if (reasoning === 'borrowed') {
    const think = source.group ? borrowedReasoning(source.group) : null;
    if (think !== null) {
      const context = `<think>${think}</think>`;
      return { text: context + answerPart, context };
    }
  }
  return { text: answerPart, context: '' };
}
