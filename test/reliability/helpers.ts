/** Shared pieces of the reliability tests: a tiny deterministic run, its logs, the CLI. */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyOverrides, parseTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { rawAddon } from '../helpers.js';
import { checkpointDirForStep } from '../../src/model/index.js';
import { TIMING_KEYS } from '../../src/train/step-log.js';

/**
 * One OpenMP thread, in this process and in every child: on a shared 2-core machine two spinning
 * OpenMP threads per process make a tiny step 100x slower. (Results are deterministic for a
 * given thread count, which is all exact resume needs.)
 */
rawAddon()?.setThreads(1);
const CHILD_ENV = { OMP_NUM_THREADS: '1' };

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const CRASH_PRELOAD = fileURLToPath(new URL('./crash-preload.js', import.meta.url));

/** `--set` flags of the tiny deterministic run every crash test uses. */
export function tinySets(steps: number, extra: string[] = []): string[] {
  return [
    'model.init=tiny',
    `steps=${steps}`,
    'promptsPerStep=2',
    'rollout.groupSize=4',
    'eval.size=2',
    'data.tasks=[refer, chart]',
    'optim.lr=0.003',
    'checkpoint.every=1',
    'checkpoint.keep=2',
    'seed=7',
    ...extra,
  ];
}

export function tinyConfig(runDir: string, steps: number, extra: string[] = []): TrainConfig {
  return parseTrainConfig(
    applyOverrides({}, [...tinySets(steps, extra), `runDir=${runDir}`]),
    'test',
  );
}

/** Fields of a step log that depend on the wall clock, not on the computation. */
const TIMING = new Set(TIMING_KEYS);

/** The deterministic part of each metrics.jsonl line, as canonical JSON text (bit-exact numbers). */
export function deterministicLines(runDir: string, file = 'metrics.jsonl'): string[] {
  const path = join(runDir, file);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      for (const k of TIMING) delete o[k];
      return JSON.stringify(o);
    });
}

/** Everything a run's exact resume must reproduce: logs, final weights and optimizer state. */
export function runSnapshot(runDir: string, step: number) {
  const ck = checkpointDirForStep(runDir, step);
  return {
    metrics: deterministicLines(runDir),
    evals: deterministicLines(runDir, 'eval.jsonl'),
    weights: readFileSync(join(ck, 'model.safetensors')),
    optimizer: readFileSync(join(ck, 'optimizer.safetensors')),
  };
}

export function steps(runDir: string): number[] {
  return deterministicLines(runDir).map((l) => (JSON.parse(l) as { step: number }).step);
}

export async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-rel-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `visurf train` synchronously. */
export function trainCli(
  args: string[],
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [MAIN, 'train', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...CHILD_ENV, ...env },
    timeout: 120_000,
  });
}

export interface Child {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string>;
  /** resolves once stderr has a line matching re (rejects if the child exits first) */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<void>;
}

/** `visurf train` as a child process whose output is watched. */
export function spawnTrain(
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Child {
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'train', ...args], {
    env: { ...process.env, ...CHILD_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  const watchers: { re: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => {
    err += String(d);
    for (let i = watchers.length - 1; i >= 0; i--)
      if (watchers[i]!.re.test(err)) watchers.splice(i, 1)[0]!.resolve();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    waitForStderr(re, timeoutMs = 60_000) {
      if (re.test(err)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timeout waiting for ${re}; stderr: ${err}`)),
          timeoutMs,
        );
        watchers.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
        void exited.then((c) => {
          clearTimeout(timer);
          reject(new Error(`child exited (${c}) before ${re}; stderr: ${err}`));
        });
      });
    },
  };
}

/** mulberry32, for reproducible random kill points. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
