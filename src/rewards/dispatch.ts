/**
 * One entry point that scores a response against a solution for any answer kind, returning every
 * component and the total. It never throws: malformed solutions are reported in `error` with
 * every component 0.
 *
 * Components (total = their sum; `thinkFormat` is null and left out in no-thinking mode):
 * | kind     | thinkFormat | answerFormat | accuracy                                  | nonRepeat |
 * |----------|-------------|--------------|-------------------------------------------|-----------|
 * | objects  | 0/1         | 0..2         | 0..3 Hungarian (IoU, L1, point)           | 0/1       |
 * | click    | 0/1         | 0/1 a point  | 0/1 point inside the target box           | 0/1       |
 * | count    | 0/1         | 0/1 integer  | 0/1 equal                                 | 0/1       |
 * | number   | 0/1         | 0/1 number   | 0/1 equal to 1e-6 relative                | 0/1       |
 * | text     | 0/1         | 0/1 non-empty| 0/1 normalised exact match                | 0/1       |
 * | caption  | 0/1         | 0/1 non-empty| 0..1 word F1                              | 0/1       |
 */
import { accuracyReward } from './accuracy.js';
import { answerFormatReward, answerOnlyFormatReward, thinkingFormatReward } from './format.js';
import { MAX_ANSWER_CHARS } from './limits.js';
import { nonRepeatReward } from './nonrepeat.js';
import { parseAnswerObjects, splitResponse, type AnswerObject } from './parse.js';
import {
  clickHit,
  normalizeText,
  numbersAgree,
  parseClick,
  parseCount,
  parseNumber,
  wordF1,
} from './scalar.js';
import type { ImageScaleOptions } from './scale.js';

export type AnswerKind = 'objects' | 'click' | 'count' | 'number' | 'text' | 'caption';
export const ANSWER_KINDS: readonly AnswerKind[] = [
  'objects',
  'click',
  'count',
  'number',
  'text',
  'caption',
];

export interface RewardOptions extends ImageScaleOptions {
  /**
   * true (default): responses are `<think>…</think><answer>…</answer>` and the thinking-format
   * reward applies. false: responses are just `<answer>…</answer>`; thinkFormat is null.
   */
  thinking?: boolean;
}

export interface RewardBreakdown {
  kind: AnswerKind;
  /** Thinking-format reward (0/1), or null in no-thinking mode. */
  thinkFormat: number | null;
  answerFormat: number;
  accuracy: number;
  nonRepeat: number;
  total: number;
  /** Largest total this kind can reach under the given options. */
  maxTotal: number;
  /** Set when the solution itself could not be understood. */
  error?: string;
}

const MAX_FORMAT: Record<AnswerKind, number> = {
  objects: 2,
  click: 1,
  count: 1,
  number: 1,
  text: 1,
  caption: 1,
};
/**
 * A reply in the expected form: a closed think block when thinking is scored, and an answer
 * that parses (the "reply format" rate of evaluations and training logs).
 */
export function isWellFormed(r: Pick<RewardBreakdown, 'thinkFormat' | 'answerFormat'>): boolean {
  return (r.thinkFormat ?? 1) >= 1 && r.answerFormat > 0;
}

/** The accuracy component's maximum per answer kind (3 for object lists: IoU, L1 and point hits). */
export const MAX_ACCURACY: Readonly<Record<AnswerKind, number>> = {
  objects: 3,
  click: 1,
  count: 1,
  number: 1,
  text: 1,
  caption: 1,
};

/** The answer text of a solution: the body of its `<answer>` block if it has one, else the whole string. */
export function solutionAnswer(solution: string): string {
  const { answer } = splitResponse(solution);
  return answer ?? solution;
}

/** Parse a solution's ground-truth objects; throws nothing, returns null when malformed. */
export function solutionObjects(solution: unknown): AnswerObject[] | null {
  if (typeof solution !== 'string') return null;
  const parsed = parseAnswerObjects(solutionAnswer(solution));
  return parsed.ok ? parsed.objects : null;
}

interface Scored {
  answerFormat: number;
  accuracy: number;
  error?: string;
}

function scoreAnswer(
  kind: AnswerKind,
  response: string,
  answer: string | null,
  solution: string,
  options: RewardOptions,
): Scored {
  const truthText = solutionAnswer(solution);
  switch (kind) {
    case 'objects': {
      const truth = solutionObjects(solution);
      if (truth === null)
        return { answerFormat: 0, accuracy: 0, error: 'solution is not a JSON list of objects' };
      const answerFormat = answerFormatReward(response);
      const parsed = answer === null ? null : parseAnswerObjects(answer);
      const accuracy =
        parsed && parsed.ok ? accuracyReward(parsed.objects, truth, options).score : 0;
      return { answerFormat, accuracy };
    }
    case 'click': {
      const truth = solutionObjects(solution);
      const target = truth && truth.length > 0 ? truth[0]!.bbox : null;
      if (target === null)
        return { answerFormat: 0, accuracy: 0, error: 'solution has no target bbox_2d' };
      const point = parseClick(answer);
      return { answerFormat: point ? 1 : 0, accuracy: clickHit(point, target) };
    }
    case 'count': {
      const want = parseCount(truthText);
      if (want === null) return { answerFormat: 0, accuracy: 0, error: 'solution is not a count' };
      const got = parseCount(answer);
      return { answerFormat: got === null ? 0 : 1, accuracy: got === want ? 1 : 0 };
    }
    case 'number': {
      const want = parseNumber(truthText);
      if (want === null) return { answerFormat: 0, accuracy: 0, error: 'solution is not a number' };
      const got = parseNumber(answer);
      return {
        answerFormat: got === null ? 0 : 1,
        accuracy: got !== null && numbersAgree(got, want) ? 1 : 0,
      };
    }
    case 'text':
    case 'caption': {
      const ok = answer !== null && answer.trim().length > 0 && answer.length <= MAX_ANSWER_CHARS;
      if (!ok) return { answerFormat: 0, accuracy: 0 };
      const accuracy =
        kind === 'text'
          ? normalizeText(answer) === normalizeText(truthText)
            ? 1
            : 0
          : wordF1(answer, truthText);
      return { answerFormat: 1, accuracy };
    }
  }
}

/** Score a response of the given answer kind against a solution. Never throws. */
export function rewardForKind(
  kind: AnswerKind,
  response: unknown,
  solution: unknown,
  options: RewardOptions = {},
): RewardBreakdown {
  const thinking = options.thinking !== false;
  const k: AnswerKind = ANSWER_KINDS.includes(kind) ? kind : 'objects';
  const maxTotal = (thinking ? 1 : 0) + MAX_FORMAT[k] + MAX_ACCURACY[k] + 1;
  const zero: RewardBreakdown = {
    kind: k,
    thinkFormat: thinking ? 0 : null,
    answerFormat: 0,
    accuracy: 0,
    nonRepeat: 0,
    total: 0,
    maxTotal,
  };
  try {
    if (!ANSWER_KINDS.includes(kind))
      return { ...zero, error: `unknown answer kind ${String(kind)}` };
    if (typeof solution !== 'string') return { ...zero, error: 'solution is not a string' };
    const text = typeof response === 'string' ? response : '';
    const { answer } = splitResponse(text);
    const thinkFormat = thinking ? thinkingFormatReward(text) : null;
    const s = scoreAnswer(k, text, answer, solution, options);
    if (s.error !== undefined) return { ...zero, error: s.error };
    // In no-thinking mode the outer shape `<answer>…</answer>` gates the answer format.
    const answerFormat = !thinking && answerOnlyFormatReward(text) === 0 ? 0 : s.answerFormat;
    const nonRepeat = nonRepeatReward(text);
    const total = (thinkFormat ?? 0) + answerFormat + s.accuracy + nonRepeat;
    return { kind: k, thinkFormat, answerFormat, accuracy: s.accuracy, nonRepeat, total, maxTotal };
  } catch (err) {
    // Defensive: nothing above should throw, but a reward must never take the trainer down.
    return { ...zero, error: `internal: ${err instanceof Error ? err.message : String(err)}` };
  }
}
