/**
 * Fixture directories for the report tests, written from the real StepLog / EvalLog / TaskEval
 * types so they stay in step with the trainer: a run directory per method, and a comparison
 * directory in the format of `visurf compare` (results.json + runs/<name>/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskEval } from '../../src/eval/evaluate.js';
import type { EvalLog, StepLog } from '../../src/train/trainer.js';

export const INJECTION =
  '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">';

const RL_METHODS = new Set(['rlvr', 'visurf', 'visurf-no-align']);

function phaseAt(method: string, step: number, steps: number): StepLog['phase'] {
  if (method === 'sft') return 'sft';
  if (method === 'sft-rlvr') return step < steps / 2 ? 'sft' : 'rlvr';
  if (method.startsWith('visurf')) return 'visurf';
  return 'rlvr';
}

/** A StepLog as the trainer writes it: fields a phase has no value for are absent or NaN. */
export function stepLog(method: string, step: number, steps: number, seed = 0): StepLog {
  const phase = phaseAt(method, step, steps);
  const t = step / Math.max(1, steps - 1);
  const wob = Math.sin(step * 1.7 + seed) * 0.05;
  const rl = phase !== 'sft';
  const visurf = phase === 'visurf';
  const log: StepLog = {
    step,
    phase,
    lr: 1e-4,
    rolloutSeconds: rl ? 0.5 : 0,
    updateSeconds: 0.5,
    loss: 1 - 0.5 * t + wob,
    clipFraction: rl ? 0.05 : 0,
    approxKl: rl ? 0.01 : 0,
    entropy: rl ? 2.5 - t + wob : NaN,
    kl: 0,
    labelNll: phase === 'rlvr' ? NaN : 3 - 2 * t,
    gradNorm: 1 + wob,
    gradNormRl: rl ? 0.4 + 0.3 * t + wob : 0,
    gradNormSft: phase === 'rlvr' ? 0 : 0.9 - 0.5 * t,
    clipScale: 1,
    skipped: false,
    forwardTokens: 1000,
    backwardTokens: 1000,
    generatedTokens: rl ? 300 : 0,
    totalGeneratedTokens: (rl ? 300 : 0) * (step + 1),
    totalTrainedTokens: 1000 * (step + 1),
    seconds: 2,
    totalSeconds: 2 * (step + 1) + seed,
    peakRssMb: 200 + step,
  };
  if (rl) {
    Object.assign(log, {
      rewardMean: 2 + 6 * (QUALITY[method] ?? 0.5) * t + wob,
      rewardStd: 0.5,
      components: { thinkFormat: 0.5 + 0.4 * t, answerFormat: 0.6, accuracy: t, nonRepeat: 1 },
      accuracyRate: t * 0.8,
      zeroVarianceFraction: 0.3,
      labelRewardBefore: visurf ? 6 : NaN,
      labelRewardAfter: visurf ? 6 - t : NaN,
      labelAdvantageMean: visurf ? 1.8 - 1.2 * t + wob : NaN,
      smoothingFraction: visurf ? 0.6 * t : NaN,
      alignedFraction: visurf ? 1 : NaN,
      responseLength: 40 - 10 * t,
      truncatedFraction: 0.1,
      rewardRate: (2 + 6 * (QUALITY[method] ?? 0.5) * t) / 8,
      formatRate: 0.5 + 0.4 * t,
    });
  }
  // one step with a missing value, as when no rollout scored: the chart shows a gap
  if (rl && step === 2) log.entropy = NaN;
  return log;
}

export function taskEval(
  task: string,
  quality: number,
  response = `<think>look</think><answer>${task} answer</answer>`,
): TaskEval {
  const q = Math.max(0, Math.min(1, quality));
  const grounding =
    task === 'refer' ||
    task === 'nonobj' ||
    task === 'reason' ||
    task === 'anomaly' ||
    task === 'lesion';
  const ev: TaskEval = {
    task: task as TaskEval['task'],
    n: 16,
    reward: 1 + 5 * q,
    accuracy: q,
    formatRate: Math.min(1, q + 0.2),
    examples: [
      { prompt: `find the ${task} thing`, response, solution: `${task} solution` },
      {
        prompt: 'second prompt',
        response: 'a plain \u0002 response with a control character',
        solution: 'x',
      },
      { prompt: 'third prompt', response: 'third', solution: 'y' },
    ],
  };
  if (grounding) {
    Object.assign(ev, { gIoU: q * 0.9, cIoU: q * 0.85, bboxAcc: q });
    if (task === 'nonobj' || task === 'anomaly')
      Object.assign(ev, { nAcc: q * 0.7, auc: 0.5 + q / 2 });
  }
  return ev;
}

export const TASKS = ['refer', 'nonobj', 'colorqa'];
const QUALITY: Record<string, number> = {
  base: 0.2,
  sft: 0.45,
  rlvr: 0.4,
  'sft-rlvr': 0.5,
  visurf: 0.6,
  'visurf-no-align': 0.55,
};

function jsonl(rows: readonly unknown[]): string {
  // NaN is written as null, as JSON.stringify does in the trainer
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

export interface RunFixtureOptions {
  steps?: number;
  evalEvery?: number;
  tasks?: readonly string[];
  seed?: number;
  injection?: boolean;
}

/** Write a run directory as `visurf train` does. */
export function writeRunDir(
  dir: string,
  method: string,
  o: RunFixtureOptions = {},
): { finalEval: EvalLog; last: StepLog } {
  const steps = o.steps ?? 12;
  const every = o.evalEvery ?? 4;
  const tasks = o.tasks ?? TASKS;
  mkdirSync(dir, { recursive: true });
  const logs = Array.from({ length: steps }, (_, s) => stepLog(method, s, steps, o.seed ?? 0));
  const q0 = QUALITY['base']!;
  const q1 = QUALITY[method] ?? 0.5;
  const evalAt = (step: number): EvalLog => ({
    step,
    tasks: tasks.map((t, i) =>
      taskEval(
        t,
        q0 + (q1 - q0) * (step / steps) - 0.05 * i + 0.01 * (o.seed ?? 0),
        o.injection && i === 0 ? INJECTION : undefined,
      ),
    ),
  });
  const evals: EvalLog[] = [];
  for (let s = every; s < steps; s += every) evals.push(evalAt(s));
  const finalEval = evalAt(steps);
  evals.push(finalEval);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ method, steps, seed: o.seed ?? 0, data: { tasks } }, null, 2),
  );
  writeFileSync(join(dir, 'metrics.jsonl'), jsonl(logs));
  writeFileSync(join(dir, 'eval.jsonl'), jsonl(evals));
  writeFileSync(
    join(dir, 'final.json'),
    JSON.stringify({ state: { step: steps }, eval: finalEval }, null, 2),
  );
  return { finalEval, last: logs[logs.length - 1]! };
}

function passAtK(
  quality: number,
  tasks: readonly string[],
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const t of tasks) {
    out[t] = {};
    for (const k of [1, 2, 4, 8, 16]) out[t]![String(k)] = 1 - (1 - quality) ** k;
  }
  return out;
}

export interface CompareFixtureOptions {
  methods?: readonly string[];
  seeds?: readonly number[];
  steps?: number;
  injection?: boolean;
}

/** Write a comparison directory as `visurf compare` does (results.json version 1). */
export function writeCompareDir(dir: string, o: CompareFixtureOptions = {}): void {
  const methods = o.methods ?? ['sft', 'rlvr', 'sft-rlvr', 'visurf'];
  const seeds = o.seeds ?? [0];
  mkdirSync(dir, { recursive: true });
  const entries = [];
  for (const seed of seeds) {
    for (const name of methods) {
      const runDir = seeds.length > 1 ? join('runs', `${name}-seed${seed}`) : join('runs', name);
      const { finalEval, last } = writeRunDir(join(dir, runDir), name, {
        steps: o.steps ?? 12,
        seed,
        injection: o.injection ?? false,
      });
      entries.push({
        name,
        ...(seeds.length > 1 ? { seed } : {}),
        runDir,
        eval: finalEval,
        passAtK: passAtK(QUALITY[name] ?? 0.5, TASKS.slice(0, 2)),
        cost: {
          seconds: last.totalSeconds,
          generatedTokens: last.totalGeneratedTokens,
          trainedTokens: last.totalTrainedTokens,
          peakRssMb: last.peakRssMb,
        },
      });
    }
  }
  const results = {
    version: 1,
    createdAt: '2026-11-22T00:00:00Z',
    command: 'visurf compare --fixture',
    base: {
      eval: { step: 0, tasks: TASKS.map((t) => taskEval(t, QUALITY['base']!)) },
      passAtK: passAtK(QUALITY['base']!, TASKS.slice(0, 2)),
    },
    methods: entries,
    ...(seeds.length > 1 ? { seeds } : {}),
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
}
