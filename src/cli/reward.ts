/**
 * `visurf reward`: read JSON lines `{task, response, solution[, width, height]}` on stdin and print
 * one JSON line per input with every reward component. A bad input line yields
 * `{"line": n, "error": "..."}` and processing continues; blank lines are skipped.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { rewardFor } from '../tasks/index.js';
import type { RewardOptions } from '../rewards/index.js';

/** Longest input line accepted; longer lines are reported, not parsed (the reward clips responses anyway). */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** Score one input line; returns the JSON object to print. Never throws. */
export function scoreLine(
  line: string,
  lineNo: number,
  defaults: RewardOptions,
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
  for (const k of ['task', 'response', 'solution'] as const) {
    if (typeof o[k] !== 'string') return { line: lineNo, error: `field "${k}" must be a string` };
  }
  const options: RewardOptions = { ...defaults };
  if (typeof o['width'] === 'number') options.width = o['width'];
  if (typeof o['height'] === 'number') options.height = o['height'];
  const r = rewardFor(o['task'] as string, o['response'], o['solution'], options);
  if (r.error !== undefined) return { line: lineNo, task: o['task'], error: r.error };
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
      '--reference-size <px>',
      'resolution at which pixel thresholds are defined (default 840)',
      Number,
    )
    .action(
      async (o: { thinking: boolean; width?: number; height?: number; referenceSize?: number }) => {
        const defaults: RewardOptions = { thinking: o.thinking };
        if (o.width !== undefined) defaults.width = o.width;
        if (o.height !== undefined) defaults.height = o.height;
        if (o.referenceSize !== undefined) defaults.referenceSize = o.referenceSize;
        const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
        let lineNo = 0;
        for await (const line of rl) {
          lineNo++;
          if (line.trim() === '') continue;
          process.stdout.write(JSON.stringify(scoreLine(line, lineNo, defaults)) + '\n');
        }
      },
    );
}
