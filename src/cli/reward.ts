/**
 * `visurf reward`: read JSON lines `{task, response, solution[, width, height | image_size]}` on
 * stdin and print one JSON line per input with every reward component. A bad input line yields
 * `{"line": n, "error": "..."}` and processing continues; blank lines are skipped; the exit
 * status is 1 when any line failed.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  applyCustomReward,
  loadCustomReward,
  rewardFor,
  type CustomReward,
  type Sample,
} from '../tasks/index.js';
import type { RewardOptions } from '../rewards/index.js';

/** Longest input line accepted; longer lines are reported, not parsed (the reward clips responses anyway). */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** The fields an input line may have. */
const FIELDS = ['task', 'response', 'solution', 'width', 'height', 'image_size'];

/** The line's image size: `width`/`height`, or `image_size: [w, h]` (the reference's name). */
function imageSize(o: Record<string, unknown>): { width?: number; height?: number } | string {
  const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  for (const k of ['width', 'height'] as const)
    if (o[k] !== undefined && !positive(o[k])) return `field "${k}" must be a positive number`;
  const s = o['image_size'];
  if (s === undefined)
    return {
      ...(o['width'] !== undefined ? { width: o['width'] as number } : {}),
      ...(o['height'] !== undefined ? { height: o['height'] as number } : {}),
    };
  if (!Array.isArray(s) || s.length !== 2 || !s.every(positive))
    return 'field "image_size" must be [width, height], two positive numbers';
  if (o['width'] !== undefined || o['height'] !== undefined)
    return 'give either "image_size" or "width"/"height", not both';
  return { width: s[0] as number, height: s[1] as number };
}

/** Score one input line; returns the JSON object to print. Never throws. */
export function scoreLine(
  line: string,
  lineNo: number,
  defaults: RewardOptions,
  custom?: CustomReward,
): Record<string, unknown> {
  if (line.length > MAX_LINE_CHARS)
    return { line: lineNo, error: `line longer than ${MAX_LINE_CHARS} characters` };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { line: lineNo, error: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    return { line: lineNo, error: 'expected a JSON object {task, response, solution}' };
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !FIELDS.includes(k));
  if (unknown.length)
    return {
      line: lineNo,
      error: `unknown field "${unknown[0]}" (expected ${FIELDS.join(', ')})`,
    };
  for (const k of ['task', 'response', 'solution'] as const) {
    if (typeof o[k] !== 'string') return { line: lineNo, error: `field "${k}" must be a string` };
  }
  const options: RewardOptions = { ...defaults };
  const size = imageSize(o);
  if (typeof size === 'string') return { line: lineNo, error: size };
  if (size.width !== undefined) options.width = size.width;
  if (size.height !== undefined) options.height = size.height;
  const r = rewardFor(o['task'] as string, o['response'], o['solution'], options);
  if (r.error !== undefined) return { line: lineNo, task: o['task'], error: r.error };
  if (custom) {
    const task = o['task'] as string;
    const sample = { task, prompt: '', solution: o['solution'], answer: '', id: `line-${lineNo}` };
    const before = custom.failures;
    const scored = applyCustomReward(r, custom, o['response'], sample as unknown as Sample);
    if (custom.failures > before)
      return { line: lineNo, task, error: `reward module: ${custom.firstFailure}` };
    return { line: lineNo, task, ...scored };
  }
  return { line: lineNo, task: o['task'], ...r };
}

export function registerReward(program: Command): void {
  program
    .command('reward')
    .description(
      'score JSON lines {task, response, solution} from stdin; print every reward component per line',
    )
    .option(
      '--no-thinking',
      'responses are <answer>…</answer> only; the thinking-format reward is absent',
    )
    .option('--width <px>', 'image width for pixel thresholds (default 64)', Number)
    .option('--height <px>', 'image height for pixel thresholds (default 64)', Number)
    .option(
      '--module <file>',
      'score with a reward module (as reward.module): its total replaces the built-in one',
    )
    .option(
      '--reference-size <px>',
      'resolution at which pixel thresholds are defined (default 840)',
      Number,
    )
    .action(
      async (o: {
        thinking: boolean;
        width?: number;
        height?: number;
        referenceSize?: number;
        module?: string;
      }) => {
        const custom = o.module ? await loadCustomReward(o.module) : undefined;
        const defaults: RewardOptions = { thinking: o.thinking };
        if (o.width !== undefined) defaults.width = o.width;
        if (o.height !== undefined) defaults.height = o.height;
        if (o.referenceSize !== undefined) defaults.referenceSize = o.referenceSize;
        const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
        let lineNo = 0;
        let failed = 0;
        for await (const line of rl) {
          lineNo++;
          if (line.trim() === '') continue;
          const scored = scoreLine(line, lineNo, defaults, custom);
          if ('error' in scored) failed++;
          process.stdout.write(JSON.stringify(scored) + '\n');
        }
        if (failed > 0) {
          process.stderr.write(`visurf: reward: ${failed} of ${lineNo} line(s) failed\n`);
          process.exitCode = 1;
        }
      },
    );
}
