/**
 * Prompt templates. `{query}` is replaced by the task's question (e.g. a referring expression).
 * The full VisionReasoner-style template is far longer than the small models' prompt budget
 * (32 byte tokens), so the default is the compact one; templates are chosen per task.
 */
import { tokenizerOf, type ModelConfig } from './config.js';
import { BOS } from './tokenizer.js';

export const PROMPT_TEMPLATES = {
  /** the query alone: fits the small models' prompt budget */
  compact: '{query}',
  /** VisionReasoner/Seg-Zero style, for larger budgets and real data */
  visionreasoner:
    'Please find "{query}" with bboxs and points. Compare the difference between objects and ' +
    'find the most closely matched one(s). Output the thinking process in <think> </think> and ' +
    'the final answer in <answer> </answer> tags. Output the bbox(es) and point(s) inside the ' +
    'interested object(s) in JSON format, i.e., <think> thinking process here </think>' +
    '<answer>[{"bbox_2d": [x1, y1, x2, y2], "point_2d": [x, y]}]</answer>',
  /** no-thinking variant: the answer only */
  visionreasonerNoThink:
    'Please find "{query}" with bboxs and points. Output the final answer in <answer> </answer> ' +
    'tags in JSON format, i.e., <answer>[{"bbox_2d": [x1, y1, x2, y2], "point_2d": [x, y]}]</answer>',
} as const;

export type PromptTemplateName = keyof typeof PROMPT_TEMPLATES;

/** Fill a template (a name from PROMPT_TEMPLATES or a literal template string). */
export function renderPrompt(template: string, query: string): string {
  const t = (PROMPT_TEMPLATES as Record<string, string>)[template] ?? template;
  return t.split('{query}').join(query);
}

/** A prompt longer than the model's prompt budget. */
export class PromptBudgetError extends Error {
  override name = 'PromptBudgetError';
}

/** <bos> + the rendered prompt in the model's tokenizer, checked against its prompt budget. */
export function promptTokens(
  sample: { id: string; prompt: string },
  template: string,
  model: ModelConfig,
): number[] {
  const { maxPromptTokens } = model;
  const ids = [BOS, ...tokenizerOf(model).encode(renderPrompt(template, sample.prompt))];
  if (ids.length > maxPromptTokens) {
    throw new PromptBudgetError(
      `sample ${sample.id}: prompt "${sample.prompt}" is ${ids.length} tokens with template "${template}"; the model's budget is ${maxPromptTokens}`,
    );
  }
  return ids;
}
