/** The task registry: names → generators, answer kinds and documentation; sample generation and reward dispatch by task. */
import { applyCustomReward, type CustomReward } from './custom-reward.js';
import {
  rewardForKind,
  type AnswerKind,
  type RewardBreakdown,
  type RewardOptions,
} from '../rewards/dispatch.js';
import { formatResponse } from '../rewards/parse.js';
import { generateAnomaly } from './families/anomaly.js';
import { generateChart } from './families/chart.js';
import type { SampleBody } from './families/common.js';
import { generateCount } from './families/count.js';
import { generateCaption, generateColorQa, generateShapeQa } from './families/general.js';
import { generateGui } from './families/gui.js';
import { generateLesion } from './families/lesion.js';
import { generateReason } from './families/reason.js';
import { generateNonObj, generateRefer } from './families/refer.js';
import { mixSeed, Rng } from './rng.js';
import {
  TASK_NAMES,
  type Sample,
  type TaskName,
  type TaskOptions,
  type TaskSpec,
} from './types.js';

export interface TaskEntry extends TaskSpec {
  generate: (rng: Rng, options: TaskOptions) => SampleBody;
}

const OBJECTS = 'VisionReasoner list [{"bbox_2d": [x1, y1, x2, y2], "point_2d": [x, y]}]';

export const TASKS: Readonly<Record<TaskName, TaskEntry>> = {
  refer: {
    name: 'refer',
    answerKind: 'objects',
    description: 'RefCOCO-like: find the object(s) named, e.g. "red circle", "all squares"',
    answerFormat: OBJECTS,
    generate: generateRefer,
  },
  nonobj: {
    name: 'nonobj',
    answerKind: 'objects',
    description: 'gRefCOCO-like: as refer, but the named object may be absent',
    answerFormat: `${OBJECTS}, or [] when absent`,
    generate: generateNonObj,
  },
  reason: {
    name: 'reason',
    answerKind: 'objects',
    description: 'ReasonSeg-like: the largest/leftmost/... one or the odd one out',
    answerFormat: OBJECTS,
    generate: generateReason,
  },
  gui: {
    name: 'gui',
    answerKind: 'click',
    description: 'OmniACT-like: click the button with the given label',
    answerFormat: '[{"point_2d": [x, y]}] (solution also holds the button bbox_2d)',
    generate: generateGui,
  },
  anomaly: {
    name: 'anomaly',
    answerKind: 'objects',
    description: 'RealIAD-like: find the spot defect among identical items, or none',
    answerFormat: `${OBJECTS}, or [] when sound`,
    generate: generateAnomaly,
  },
  lesion: {
    name: 'lesion',
    answerKind: 'objects',
    description: 'ISIC-like: segment the irregular blob on skin texture',
    answerFormat: OBJECTS,
    generate: generateLesion,
  },
  count: {
    name: 'count',
    answerKind: 'count',
    description: 'CountBench-like: how many of a shape',
    answerFormat: 'an integer, e.g. 3',
    generate: generateCount,
  },
  chart: {
    name: 'chart',
    answerKind: 'number',
    description: 'MathVista-like: read bar values and compute',
    answerFormat: 'a number, e.g. 8',
    generate: generateChart,
  },
  caption: {
    name: 'caption',
    answerKind: 'caption',
    description: 'general: name the shapes left to right',
    answerFormat: 'text, e.g. "red circle, blue square"',
    generate: generateCaption,
  },
  colorqa: {
    name: 'colorqa',
    answerKind: 'text',
    description: 'general: the colour of a named shape',
    answerFormat: 'a colour name',
    generate: generateColorQa,
  },
  shapeqa: {
    name: 'shapeqa',
    answerKind: 'text',
    description: 'general: the shape of a named colour',
    answerFormat: 'a shape name',
    generate: generateShapeQa,
  },
};

export function isTaskName(name: unknown): name is TaskName {
  return typeof name === 'string' && (TASK_NAMES as readonly string[]).includes(name);
}

/**
 * Generate one sample. With a numeric seed the sample is a pure function of (task, seed,
 * options) and its id is `<task>-<seed>`; with an Rng the caller controls the stream.
 */
export function generateSample(
  task: TaskName,
  seedOrRng: number | Rng,
  options: TaskOptions = {},
): Sample {
  const entry = TASKS[task];
  if (!entry)
    throw new Error(`unknown task ${String(task)}; expected one of ${TASK_NAMES.join(', ')}`);
  const rng = typeof seedOrRng === 'number' ? new Rng(mixSeed(seedOrRng, task)) : seedOrRng;
  const id =
    typeof seedOrRng === 'number'
      ? `${task}-${seedOrRng}`
      : `${task}-r${rng.nextU32().toString(16)}`;
  try {
    return { id, task, ...entry.generate(rng, options) };
  } catch (e) {
    // name the task and size: the generator's own message cannot
    const size = `${options.width ?? 64}x${options.height ?? 64}`;
    throw new Error(`${task} at ${size}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** `n` samples with seeds seed, seed+1, …, so any one can be regenerated alone. */
export function generateSamples(
  task: TaskName,
  n: number,
  seed: number,
  options: TaskOptions = {},
): Sample[] {
  return Array.from({ length: n }, (_, i) => generateSample(task, seed + i, options));
}

/**
 * `n` samples cycling through `tasks`: sample i is task tasks[i mod k] with seed seed + i, so a
 * mixed corpus is as reproducible as a single-task one.
 */
export function generateMixed(
  tasks: readonly TaskName[],
  n: number,
  seed: number,
  options: TaskOptions = {},
): Sample[] {
  if (tasks.length === 0) throw new Error('generateMixed needs at least one task');
  return Array.from({ length: n }, (_, i) =>
    generateSample(tasks[i % tasks.length]!, seed + i, options),
  );
}

/**
 * Score a response to a task against its solution (every component and the total). Reward
 * options default the image size to 64×64. Never throws; an unknown task scores 0 with an error.
 */
export function rewardFor(
  task: string,
  response: unknown,
  solution: unknown,
  options: RewardOptions = {},
): RewardBreakdown {
  if (!isTaskName(task)) {
    // An unknown kind yields the all-zero breakdown; name the task in the error instead.
    return {
      ...rewardForKind('unknown' as AnswerKind, response, solution, options),
      error: `unknown task ${String(task)}`,
    };
  }
  return rewardForKind(TASKS[task].answerKind, response, solution, options);
}

/** Score a response to a generated sample, taking the image size from the sample. */
export function rewardForSample(
  sample: Sample,
  response: unknown,
  options: RewardOptions & { custom?: CustomReward } = {},
): RewardBreakdown {
  const { custom, ...rest } = options;
  const builtin = rewardFor(sample.task, response, sample.solution, {
    width: sample.image.width,
    height: sample.image.height,
    ...rest,
  });
  return custom ? applyCustomReward(builtin, custom, response, sample) : builtin;
}

/** The full response a perfect policy writes for a sample (think trace optional: null = no-thinking form). */
export function referenceResponse(sample: Sample, think: string | null = sample.think): string {
  return formatResponse(think, sample.answer);
}
