/**
 * A reward brought by the user (`reward.module: ./my_reward.mjs`), as TRL's `reward_funcs` and
 * EasyR1's `score_function`: a JavaScript module whose default export (or `reward` export) is
 *
 *   (response: string, sample: { task, prompt, solution, answer, id }) => number | { [component]: number }
 *
 * A number is the reward; an object's values are its components and their sum the reward. An
 * optional `maxReward` export (a number) is the largest reward, for rates. The built-in verifiers
 * still run beside it (reply format, accuracy diagnostics); only `total` (and `maxTotal` when
 * `maxReward` is given) come from the module. A call that throws or returns something else
 * scores 0 and is counted; the run goes on.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RewardBreakdown } from '../rewards/index.js';
import type { Sample } from './types.js';

export type CustomRewardFn = (
  response: string,
  sample: Readonly<Pick<Sample, 'task' | 'prompt' | 'solution' | 'answer' | 'id'>>,
) => unknown;

export interface CustomReward {
  fn: CustomRewardFn;
  /** where it came from, for messages */
  source: string;
  maxReward?: number;
  /** calls that threw or returned no finite reward (scored 0) */
  failures: number;
  /** the first failure's message */
  firstFailure?: string;
}

export class CustomRewardError extends Error {
  override name = 'CustomRewardError';
}

/** Import a reward module (a path, resolved against the working directory). */
export async function loadCustomReward(path: string): Promise<CustomReward> {
  const file = isAbsolute(path) ? path : resolve(path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new CustomRewardError(
      `reward.module: ${path}: cannot import (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const fn = typeof mod['default'] === 'function' ? mod['default'] : mod['reward'];
  if (typeof fn !== 'function')
    throw new CustomRewardError(
      `reward.module: ${path}: exports no function (a default export or "reward": (response, sample) => number | {component: number})`,
    );
  const max = mod['maxReward'];
  if (max !== undefined && !(typeof max === 'number' && Number.isFinite(max) && max > 0))
    throw new CustomRewardError(`reward.module: ${path}: maxReward must be a positive number`);
  return {
    fn: fn as CustomRewardFn,
    source: path,
    ...(max !== undefined ? { maxReward: max as number } : {}),
    failures: 0,
  };
}

/** The module's reward of one reply, folded into the built-in breakdown. Never throws. */
export function applyCustomReward(
  builtin: RewardBreakdown,
  custom: CustomReward,
  response: unknown,
  sample: Sample,
): RewardBreakdown & { components?: Record<string, number> } {
  let total = 0;
  let components: Record<string, number> | undefined;
  let problem: string | undefined;
  try {
    const v = custom.fn(typeof response === 'string' ? response : '', {
      task: sample.task,
      prompt: sample.prompt,
      solution: sample.solution,
      answer: sample.answer,
      id: sample.id,
    });
    if (typeof v === 'number') {
      if (Number.isFinite(v)) total = v;
      else problem = `returned ${v}`;
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.every(([, x]) => typeof x === 'number' && Number.isFinite(x))) {
        components = Object.fromEntries(entries) as Record<string, number>;
        total = Object.values(components).reduce((a, b) => a + b, 0);
      } else problem = 'returned an object with a non-finite or non-number component';
    } else problem = `returned ${typeof v}`;
  } catch (e) {
    problem = `threw: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (problem !== undefined) {
    custom.failures++;
    custom.firstFailure ??= `${custom.source}: ${problem}`;
    total = 0;
  }
  return {
    ...builtin,
    total,
    ...(custom.maxReward !== undefined ? { maxTotal: custom.maxReward } : {}),
    ...(components ? { components } : {}),
  };
}
