/**
 * The run directory's format, in one place: the name of every file a run writes, and how the
 * records that are not a checkpoint are written and read back (metrics.jsonl lines through
 * step-log.ts; checkpoints through model/checkpoint.ts). Training, compare, report and the
 * command line all go through here.
 *
 *   config.json        the resolved configuration (written once, at the start)
 *   metrics.jsonl      one line per step, tracker keys (step-log.ts)
 *   eval.jsonl         one line per evaluation: {step, tasks}
 *   completions.jsonl  sampled prompts, replies, rewards and advantages (completions.ts)
 *   final.json         {state, eval} once the run has finished
 *   checkpoints/       step-NNNNNN/ directories (model/checkpoint.ts)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalLog } from './eval-suite.js';
import type { TrainerState } from './run-state.js';

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  evals: 'eval.jsonl',
  completions: 'completions.jsonl',
  final: 'final.json',
} as const;

export type RunFile = keyof typeof RUN_FILES;

/** The path of one of a run directory's files. */
export function runFile(runDir: string, file: RunFile): string {
  return join(runDir, RUN_FILES[file]);
}

/** What a finished run records: its trainer state and its final evaluation. */
export interface FinalRecord {
  state: TrainerState;
  eval: EvalLog;
}

export function writeFinal(runDir: string, record: FinalRecord): void {
  writeFileSync(runFile(runDir, 'final'), `${JSON.stringify(record, null, 2)}\n`);
}

/** A finished run's record, or null when the run has not finished (no final.json). */
export function readFinal(runDir: string): FinalRecord | null {
  const path = runFile(runDir, 'final');
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as FinalRecord;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** An evaluation as one eval.jsonl line. */
export function evalLogLine(log: EvalLog): string {
  return `${JSON.stringify(log)}\n`;
}
