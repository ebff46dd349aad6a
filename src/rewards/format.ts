/** Format rewards: is the response shaped `<think>…</think><answer>…</answer>`, and is the answer well formed. */
import { MAX_RESPONSE_CHARS } from './limits.js';
import { parseAnswerObjects, splitResponse } from './parse.js';

const WHITESPACE = /\s/;

/**
 * 1 when the whole response matches `<think>.*?</think>\s*<answer>.*?</answer>` (dotall, full
 * match), else 0. Implemented as a linear scan that is equivalent to the full-match regex:
 * the text starts with `<think>`, ends with `</answer>`, and some `</think>` is followed by
 * optional whitespace and an `<answer>` that does not overlap the final `</answer>`.
 * Responses longer than MAX_RESPONSE_CHARS score 0.
 */
export function thinkingFormatReward(response: unknown): number {
  if (typeof response !== 'string' || response.length > MAX_RESPONSE_CHARS) return 0;
  const text = response;
  if (!text.startsWith('<think>') || !text.endsWith('</answer>')) return 0;
  const lastAnswerClose = text.length - '</answer>'.length;
  let from = '<think>'.length;
  for (;;) {
    const close = text.indexOf('</think>', from);
    if (close < 0) return 0;
    let j = close + '</think>'.length;
    while (j < text.length && WHITESPACE.test(text[j]!)) j++;
    if (text.startsWith('<answer>', j) && j + '<answer>'.length <= lastAnswerClose) return 1;
    from = close + 1;
  }
}

/** 1 when the whole response is `<answer>.*?</answer>` (the no-thinking form), else 0. */
export function answerOnlyFormatReward(response: unknown): number {
  if (typeof response !== 'string' || response.length > MAX_RESPONSE_CHARS) return 0;
  return response.startsWith('<answer>') && response.endsWith('</answer>') && response.length >= 17
    ? 1
    : 0;
}

/**
 * Answer-format reward for VisionReasoner answers, 0..2: per listed object +1 for a `bbox_2d` of
 * four finite numbers and +1 for a `point_2d` of two, averaged over the objects. A parseable
 * empty list is a well-formed "no object" answer and scores the full 2 (the public reference
 * scores it 0, which would teach a model never to answer "none"). No answer or unparseable: 0.
 */
export function answerFormatReward(response: unknown): number {
  const { answer } = splitResponse(response);
  if (answer === null) return 0;
  const parsed = parseAnswerObjects(answer);
  if (!parsed.ok) return 0;
  if (parsed.objects.length === 0) return 2;
  let sum = 0;
  for (const o of parsed.objects) sum += (o.bbox ? 1 : 0) + (o.point ? 1 : 0);
  return sum / parsed.objects.length;
}
