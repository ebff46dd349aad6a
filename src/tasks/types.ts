/** The sample type every task generator produces. */
import type { AnswerKind } from '../rewards/dispatch.js';
import type { Box, Point } from '../rewards/parse.js';
import type { Mask, RgbImage } from './image.js';

export const TASK_NAMES = [
  'refer',
  'nonobj',
  'reason',
  'gui',
  'anomaly',
  'lesion',
  'count',
  'chart',
  'caption',
  'colorqa',
  'shapeqa',
] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Ground truth of one target object, for rewards (box, point) and mask metrics. */
export interface GroundTruthObject {
  box: Box;
  point: Point;
  mask: Mask;
}

export interface Sample {
  id: string;
  task: TaskName;
  image: RgbImage;
  /** The question text, kept short (≤ 32 bytes) for the small model's prompt budget. */
  prompt: string;
  /** Ground truth the verifier scores against (VisionReasoner JSON list, or a count/number/word). */
  solution: string;
  /** The answer body a perfect policy writes, in the policy's own style (the ViSurf label's answer). */
  answer: string;
  /** Target objects (empty for "no object" and for non-grounding tasks without targets). */
  objects: GroundTruthObject[];
  /** Short reasoning trace usable as `<think>` text in pre-training data. */
  think: string;
}

/** Options every generator accepts; unknown fields are ignored so variants can be added later. */
export interface TaskOptions {
  /** Image width (default 64). */
  width?: number;
  /** Image height (default 64). */
  height?: number;
  /** Allow samples whose answer is "no object" / zero (default true). */
  allowEmpty?: boolean;
  /** Allow anomaly samples with a defect (default true). */
  allowDefects?: boolean;
  /** Probability of an empty answer where a task supports one (default 0.5 for nonobj/anomaly). */
  emptyRate?: number;
  /**
   * count's `<think>` trace: `number` (default) says the number ("I see 3 squares."); `points`
   * first points at each object, left to right ("(12,40) (33,31) (50,9): I see 3 squares."), as
   * VisionReasoner counts by pointing. The answer is the same.
   */
  countTrace?: 'number' | 'points';
}

export interface TaskSpec {
  name: TaskName;
  answerKind: AnswerKind;
  /** One line: what the task mirrors and asks. */
  description: string;
  /** What the answer looks like. */
  answerFormat: string;
}
