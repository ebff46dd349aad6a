/**
 * Reading what a report is made from: a training run directory (config.json, metrics.jsonl,
 * eval.jsonl, final.json) or a comparison directory (results.json plus runs/<name>/). Every
 * problem is reported with the file (and line) it is in.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { TaskEval } from '../eval/evaluate.js';
import type { EvalLog } from '../train/trainer.js';
import { fromTrackerRecord, type StepLog } from '../train/step-log.js';
import { runFile } from '../train/run-files.js';

export class ReportInputError extends Error {
  override name = 'ReportInputError';
}

/** pass@k of one model: task -> k -> fraction of prompts with at least one correct of k samples. */
export type PassAtK = Record<string, Record<string, number>>;

export interface RunCost {
  seconds: number;
  generatedTokens: number;
  trainedTokens: number;
  peakRssMb: number;
}

/** One training run as read from its directory. */
export interface RunData {
  dir: string;
  /** the method name shown in the report */
  name: string;
  config: Record<string, unknown> | null;
  steps: StepLog[];
  evals: EvalLog[];
  /** the final evaluation (final.json, else the last eval.jsonl line) */
  finalEval: EvalLog | null;
}

export interface MethodResult {
  name: string;
  seed?: number;
  runDir: string;
  eval: EvalLog | null;
  passAtK?: PassAtK;
  cost: RunCost | null;
  /** the run's logs, when its directory is there */
  run: RunData | null;
}

export interface ReportData {
  kind: 'run' | 'compare';
  dir: string;
  title: string;
  command?: string;
  createdAt?: string;
  seeds?: number[];
  base: { path?: string; eval: EvalLog | null; passAtK?: PassAtK } | null;
  methods: MethodResult[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parse JSONL text: one JSON object per non-blank line. A line that is not a JSON object is an
 * error naming `file:line`; a torn last line (a crash mid-write, no trailing newline) too — the
 * report should not silently drop data.
 */
export function parseJsonl(text: string, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new ReportInputError(
        `${file}:${i + 1}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    if (!isObject(v))
      throw new ReportInputError(
        `${file}:${i + 1}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}`,
      );
    out.push(v);
  }
  return out;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ReportInputError(
      `${file}: cannot read (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

function readJson(file: string): unknown {
  const text = readText(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ReportInputError(
      `${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

function requireNumber(o: Record<string, unknown>, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ReportInputError(`${where}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** Check the fields the report relies on; the rest of a StepLog may be absent or null. */
export function parseStepLogs(text: string, file: string): StepLog[] {
  return parseJsonl(text, file).map((o, i) => {
    const where = `${file}: record ${i + 1}`;
    requireNumber(o, 'step', where);
    if (typeof o['phase'] !== 'string')
      throw new ReportInputError(`${where}: "phase" must be a string`);
    return fromTrackerRecord(o); // step-log.ts: tracker keys, or an older run's camelCase
  });
}

function checkTaskEval(t: unknown, where: string): TaskEval {
  if (!isObject(t)) throw new ReportInputError(`${where}: a task evaluation must be an object`);
  if (typeof t['task'] !== 'string')
    throw new ReportInputError(`${where}: "task" must be a string`);
  if (t['examples'] !== undefined && !Array.isArray(t['examples']))
    throw new ReportInputError(`${where}: "examples" must be an array`);
  return t as unknown as TaskEval;
}

export function checkEvalLog(v: unknown, where: string): EvalLog {
  if (!isObject(v))
    throw new ReportInputError(`${where}: an evaluation must be an object {step, tasks}`);
  if (!Array.isArray(v['tasks'])) throw new ReportInputError(`${where}: "tasks" must be an array`);
  const step = typeof v['step'] === 'number' ? v['step'] : 0;
  return { step, tasks: v['tasks'].map((t, i) => checkTaskEval(t, `${where}: tasks[${i}]`)) };
}

export function parseEvalLogs(text: string, file: string): EvalLog[] {
  const lines = text.split('\n');
  const lineOf: number[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '') lineOf.push(i + 1);
  });
  return parseJsonl(text, file).map((o, i) => checkEvalLog(o, `${file}:${lineOf[i]}`));
}

/** Sort by step; when a step appears twice (a resumed run), keep the later record. */
function byStep<T extends { step: number }>(xs: readonly T[]): T[] {
  const m = new Map<number, T>();
  for (const x of xs) m.set(x.step, x);
  return [...m.values()].sort((a, b) => a.step - b.step);
}

export function isRunDir(dir: string): boolean {
  return existsSync(runFile(dir, 'metrics'));
}

export function isCompareDir(dir: string): boolean {
  return existsSync(join(dir, 'results.json'));
}

function requireDir(dir: string): void {
  if (!existsSync(dir)) throw new ReportInputError(`${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new ReportInputError(`${dir}: not a directory`);
}

/** Read a run directory. `name` defaults to the config's method (else the folder name). */
export function loadRun(dir: string, name?: string): RunData {
  requireDir(dir);
  const metricsPath = runFile(dir, 'metrics');
  if (!existsSync(metricsPath)) {
    throw new ReportInputError(
      `${metricsPath}: not found (is ${dir} a run directory made by "visurf train", or a comparison directory with results.json?)`,
    );
  }
  const steps = byStep(parseStepLogs(readText(metricsPath), metricsPath));
  const evalPath = runFile(dir, 'evals');
  const evals = existsSync(evalPath) ? byStep(parseEvalLogs(readText(evalPath), evalPath)) : [];
  const configPath = runFile(dir, 'config');
  let config: Record<string, unknown> | null = null;
  if (existsSync(configPath)) {
    const c = readJson(configPath);
    if (!isObject(c)) throw new ReportInputError(`${configPath}: expected a JSON object`);
    config = c;
  }
  const finalPath = runFile(dir, 'final');
  let finalEval: EvalLog | null = evals.length ? evals[evals.length - 1]! : null;
  if (existsSync(finalPath)) {
    const f = readJson(finalPath);
    if (!isObject(f))
      throw new ReportInputError(`${finalPath}: expected a JSON object {state, eval}`);
    if (f['eval'] !== undefined && f['eval'] !== null)
      finalEval = checkEvalLog(f['eval'], `${finalPath}: eval`);
  }
  const method = config && typeof config['method'] === 'string' ? config['method'] : undefined;
  return { dir, name: name ?? method ?? basename(resolve(dir)), config, steps, evals, finalEval };
}

/** The training cost of a run from its last logged step. */
export function runCost(run: RunData): RunCost | null {
  const last = run.steps[run.steps.length - 1];
  if (!last) return null;
  const peak = Math.max(
    ...run.steps.map((s) => (typeof s.peakRssMb === 'number' ? s.peakRssMb : 0)),
  );
  return {
    seconds: last.totalSeconds,
    generatedTokens: last.totalGeneratedTokens,
    trainedTokens: last.totalTrainedTokens,
    peakRssMb: peak,
  };
}

function checkPassAtK(v: unknown, where: string): PassAtK | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v))
    throw new ReportInputError(`${where}: passAtK must be an object {task: {k: value}}`);
  for (const [task, ks] of Object.entries(v)) {
    if (!isObject(ks))
      throw new ReportInputError(`${where}: passAtK.${task} must be an object {k: value}`);
    for (const [k, x] of Object.entries(ks)) {
      if (!Number.isFinite(Number(k)))
        throw new ReportInputError(`${where}: passAtK.${task}: key "${k}" is not a number k`);
      if (x !== null && typeof x !== 'number')
        throw new ReportInputError(`${where}: passAtK.${task}.${k} must be a number`);
    }
  }
  return v as PassAtK;
}

function checkCost(v: unknown, where: string): RunCost | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new ReportInputError(`${where}: cost must be an object`);
  const num = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : NaN);
  return {
    seconds: num('seconds'),
    generatedTokens: num('generatedTokens'),
    trainedTokens: num('trainedTokens'),
    peakRssMb: num('peakRssMb'),
  };
}

/** Read a comparison directory (results.json, see docs in src/report/README or the lead's compare). */
export function loadCompare(dir: string): ReportData {
  requireDir(dir);
  const file = join(dir, 'results.json');
  const r = readJson(file);
  if (!isObject(r)) throw new ReportInputError(`${file}: expected a JSON object`);
  if (r['version'] !== undefined && r['version'] !== 1)
    throw new ReportInputError(
      `${file}: unsupported version ${JSON.stringify(r['version'])} (this report reads version 1)`,
    );
  if (!Array.isArray(r['methods']))
    throw new ReportInputError(`${file}: "methods" must be an array`);
  let base: ReportData['base'] = null;
  if (r['base'] !== undefined && r['base'] !== null) {
    const b = r['base'];
    if (!isObject(b)) throw new ReportInputError(`${file}: "base" must be an object`);
    const passAtK = checkPassAtK(b['passAtK'], `${file}: base`);
    base = {
      ...(typeof b['path'] === 'string' ? { path: b['path'] } : {}),
      eval: b['eval'] ? checkEvalLog(b['eval'], `${file}: base.eval`) : null,
      ...(passAtK ? { passAtK } : {}),
    };
  }
  const methods: MethodResult[] = r['methods'].map((m, i) => {
    const where = `${file}: methods[${i}]`;
    if (!isObject(m)) throw new ReportInputError(`${where}: must be an object`);
    if (typeof m['name'] !== 'string' || !m['name'])
      throw new ReportInputError(`${where}: "name" must be a non-empty string`);
    const name = m['name'];
    const runDirRel = typeof m['runDir'] === 'string' ? m['runDir'] : join('runs', name);
    const runDir = resolve(dir, runDirRel);
    const run = isRunDir(runDir) ? loadRun(runDir, name) : null;
    const passAtK = checkPassAtK(m['passAtK'], where);
    const ev = m['eval'] ? checkEvalLog(m['eval'], `${where}.eval`) : (run?.finalEval ?? null);
    const cost = checkCost(m['cost'], where) ?? (run ? runCost(run) : null);
    return {
      name,
      ...(typeof m['seed'] === 'number' ? { seed: m['seed'] } : {}),
      runDir: runDirRel,
      eval: ev,
      ...(passAtK ? { passAtK } : {}),
      cost,
      run,
    };
  });
  const seeds = Array.isArray(r['seeds'])
    ? r['seeds'].filter((s): s is number => typeof s === 'number')
    : undefined;
  return {
    kind: 'compare',
    dir,
    title: `visurf comparison — ${basename(resolve(dir))}`,
    ...(typeof r['command'] === 'string' ? { command: r['command'] } : {}),
    ...(typeof r['createdAt'] === 'string' ? { createdAt: r['createdAt'] } : {}),
    ...(seeds ? { seeds } : {}),
    base,
    methods,
  };
}

/** A run directory as a one-method report. */
export function loadRunReport(dir: string): ReportData {
  const run = loadRun(dir);
  return {
    kind: 'run',
    dir,
    title: `visurf run — ${run.name} — ${basename(resolve(dir))}`,
    base: null,
    methods: [{ name: run.name, runDir: '.', eval: run.finalEval, cost: runCost(run), run }],
  };
}

/** Detect the kind of directory and read it. */
export function loadReportData(dir: string): ReportData {
  requireDir(dir);
  if (isCompareDir(dir)) return loadCompare(dir);
  if (isRunDir(dir)) return loadRunReport(dir);
  throw new ReportInputError(
    `${dir}: neither a comparison directory (no results.json) nor a run directory (no metrics.jsonl)`,
  );
}
