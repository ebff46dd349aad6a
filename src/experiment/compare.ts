/**
 * `visurf compare`: from one base model and under one compute budget, train every paradigm,
 * evaluate each on every task of the suite plus the forgetting set, and write the paper-shaped
 * tables (Table 1: methods x tasks; Table 6: training cost) as results.json and results.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { setMatmulDtype } from '../engine/index.js';
import {
  latestCheckpoint,
  loadModel,
  resolveCheckpointDir,
  type VisionLanguageModel,
} from '../model/index.js';
import { isTaskName, type TaskName } from '../tasks/index.js';
import { DEFAULT_BASE } from '../model/index.js';
import {
  ConfigError,
  METHODS,
  parseTrainConfig,
  type Method,
  type TrainConfig,
} from '../train/config.js';
import { configChanges, describeChanges } from '../train/resume.js';
import { readStepLogs } from '../train/step-log.js';
import { RUN_FILES, readFinal, runFile } from '../train/run-files.js';
import { loadCompare } from '../report/load.js';
import { comparisonMarkdown } from '../report/tables.js';
import { evalSamples, taskOptionsFor } from '../train/data.js';
import { train, type EvalLog, type TrainHooks, type TrainerState } from '../train/trainer.js';
import { mainMetric } from '../eval/evaluate.js';
import {
  buildEvalSuite,
  evalOptionsOf,
  runEvalSuite,
  type EvalSuite,
} from '../train/eval-suite.js';
import { passAtK } from '../eval/pass-at-k.js';

export const CompareConfigSchema = z
  .object({
    /** the base model: a shipped model's name (the shipped base by default) or a checkpoint directory */
    base: z.string().min(1).default(DEFAULT_BASE),
    /** output directory (results.json, results.md, runs/<method>) */
    out: z.string().min(1).default('runs/compare'),
    methods: z
      .array(z.enum(METHODS))
      .min(1)
      .default([...METHODS]),
    /** also run ViSurf without each reward control */
    ablations: z.boolean().default(false),
    seeds: z.array(z.number().int()).min(1).default([0]),
    /** tasks evaluated besides the training tasks, with their generators' defaults */
    evalTasks: z.array(z.string()).default([]),
    /** general tasks from pre-training, evaluated to measure forgetting */
    forgetting: z.array(z.string()).default(['caption', 'colorqa', 'shapeqa']),
    evalSize: z.number().int().positive().default(64),
    /**
     * held-out evaluations during each run, evenly over its budget (train's eval.points), at
     * evalSize samples and on every reported task (the forgetting set included), so the curves
     * and the tables measure the same thing
     */
    evalPoints: z.number().int().min(0).default(6),
    passAtK: z
      .object({
        n: z.number().int().positive().default(8),
        ks: z.array(z.number().int().positive()).default([1, 2, 4, 8]),
        tasks: z.array(z.string()).default([]),
        size: z.number().int().positive().default(32),
      })
      .strict()
      .prefault({}),
    /**
     * train each method in its own child process, so its peak memory (Table 6) is its own and
     * not the high-water mark of the methods before it
     */
    isolate: z.boolean().default(true),
    /**
     * a run directory left by an earlier compare whose config differs from this one's is
     * normally set aside (renamed `<run>.stale-<time>`) and trained afresh; true reuses it as is
     */
    reuseStale: z.boolean().default(false),
    /** training settings shared by every method (any TrainConfig key) */
    train: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type CompareConfig = z.infer<typeof CompareConfigSchema>;

export interface MethodResult {
  name: string;
  method: Method;
  seed: number;
  runDir: string;
  eval: EvalLog;
  passAtK?: Record<string, Record<string, number>>;
  cost: {
    seconds: number;
    generatedTokens: number;
    trainedTokens: number;
    peakRssMb: number;
    steps: number;
  };
}

export interface CompareResults {
  version: 1;
  createdAt: string;
  command: string;
  base: { path: string; eval: EvalLog; passAtK?: Record<string, Record<string, number>> };
  methods: MethodResult[];
  seeds: number[];
}

interface Variant {
  name: string;
  method: Method;
  controls?: Partial<TrainConfig['controls']>;
}

export function variants(c: CompareConfig): Variant[] {
  const out: Variant[] = c.methods.map((m) => ({ name: m, method: m }));
  if (c.ablations) {
    out.push(
      { name: 'visurf-no-align', method: 'visurf', controls: { align: false } },
      { name: 'visurf-no-think-elim', method: 'visurf', controls: { eliminateThinking: false } },
      { name: 'visurf-no-smooth', method: 'visurf', controls: { smooth: false } },
    );
  }
  return out;
}

export function parseCompareConfig(raw: unknown, source: string): CompareConfig {
  const r = CompareConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    throw new ConfigError(
      r.error.issues
        .map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('\n'),
    );
  }
  for (const t of [...r.data.evalTasks, ...r.data.forgetting, ...r.data.passAtK.tasks]) {
    if (!isTaskName(t)) throw new ConfigError(`${source}: unknown task "${t}"`);
  }
  return r.data;
}

function trainConfigFor(c: CompareConfig, v: Variant, seed: number, source: string): TrainConfig {
  const shared = c.train as Record<string, unknown>;
  const model = { ...((shared.model as object | undefined) ?? {}), init: c.base };
  const controls = { ...((shared.controls as object | undefined) ?? {}), ...v.controls };
  const evaluation = {
    ...((shared.eval as object | undefined) ?? {}),
    size: c.evalSize,
    points: c.evalPoints,
    extraTasks: [...c.evalTasks, ...c.forgetting],
  };
  return parseTrainConfig(
    {
      ...shared,
      method: v.method,
      seed,
      model,
      controls,
      eval: evaluation,
      runDir: join(c.out, 'runs', runName(v, seed, c)),
    },
    `${source}: train`,
  );
}

function runName(v: Variant, seed: number, c: CompareConfig): string {
  return c.seeds.length > 1 ? `${v.name}-s${seed}` : v.name;
}

function evaluateAll(
  model: VisionLanguageModel,
  suite: EvalSuite,
  tc: TrainConfig,
  step: number,
): EvalLog {
  return runEvalSuite(model, suite, evalOptionsOf(tc, model.config), step);
}

function passAtKAll(
  model: VisionLanguageModel,
  c: CompareConfig,
  tc: TrainConfig,
  imageSize: number,
): Record<string, Record<string, number>> | undefined {
  if (c.passAtK.tasks.length === 0) return undefined;
  const out: Record<string, Record<string, number>> = {};
  for (const t of c.passAtK.tasks as TaskName[]) {
    out[t] = passAtK(model, evalSamples(t, c.passAtK.size, taskOptionsFor(tc, t, imageSize)), {
      n: c.passAtK.n,
      ks: c.passAtK.ks,
      template: tc.data.template,
      noThink: tc.noThink,
      referenceSize: tc.reward.referenceSize,
      maxNewTokens: model.config.maxResponseTokens,
      seed: 7,
    });
  }
  return out;
}

function peakRss(runDir: string): number {
  let peak = 0;
  for (const s of readStepLogs(runFile(runDir, 'metrics'))) peak = Math.max(peak, s.peakRssMb ?? 0);
  return peak;
}

/**
 * A run directory trained with another config than `tc` (an earlier compare with other
 * settings) must not be reported as `tc`'s result: it is renamed aside, kept, and `tc` trains
 * afresh — unless `reuse` says to keep using it.
 */
function setAsideIfStale(tc: TrainConfig, reuse: boolean, say: (text: string) => void): void {
  const changes = configChanges(tc);
  if (!changes || changes.length === 0) return;
  if (reuse) {
    say(
      `${tc.runDir}: reused although its config differs (${describeChanges(changes)}; reuseStale)`,
    );
    return;
  }
  const aside = `${tc.runDir}.stale-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(tc.runDir, aside);
  say(
    `${tc.runDir} was trained with another config (${describeChanges(changes)}); kept as ${aside}, training afresh`,
  );
}

/** `visurf train` on a config in a child process (progress goes to this process's stderr). */
async function trainInChild(tc: TrainConfig): Promise<TrainerState> {
  mkdirSync(tc.runDir, { recursive: true });
  const cfgPath = join(tc.runDir, 'compare-train.json');
  writeFileSync(cfgPath, `${JSON.stringify(tc, null, 2)}\n`);
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'train', '--config', cfgPath], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) =>
    child.on('exit', (c, signal) => resolve(signal ? -1 : c)),
  );
  if (code !== 0)
    throw new Error(
      `training ${tc.runDir} failed (exit ${code}); run the same compare again to resume it`,
    );
  const final = readFinal(tc.runDir);
  if (!final) throw new Error(`training ${tc.runDir} ended without ${RUN_FILES.final}`);
  return final.state;
}

export interface CompareHooks {
  onMessage?: (text: string) => void;
  trainHooks?: (name: string, run: TrainConfig) => TrainHooks;
}

/** Run (or resume: finished runs are reused) the comparison. */
export async function compare(
  c: CompareConfig,
  command: string,
  hooks: CompareHooks = {},
): Promise<CompareResults> {
  const say = hooks.onMessage ?? (() => {});
  // Every run's config is built (and so validated) before the first run starts.
  const runs = c.seeds.flatMap((seed) =>
    variants(c).map((v) => ({ v, seed, tc: trainConfigFor(c, v, seed, 'compare') })),
  );
  mkdirSync(c.out, { recursive: true });
  const base = await loadModel(await resolveCheckpointDir(c.base));
  const refCfg = trainConfigFor(c, { name: 'base', method: 'visurf' }, c.seeds[0]!, 'compare');
  setMatmulDtype(refCfg.model.precision);
  const imageSize = base.model.config.image.size;
  // the suite every run's own curves use (train config of the runs: eval.size, extraTasks)
  const sets = await buildEvalSuite(refCfg, base.model.config);
  say(`the base model ${c.base}: ${sets.notice}`);
  const results: CompareResults = {
    version: 1,
    createdAt: new Date().toISOString(),
    command,
    base: { path: c.base, eval: evaluateAll(base.model, sets, refCfg, 0) },
    methods: [],
    seeds: c.seeds,
  };
  const basePass = passAtKAll(base.model, c, refCfg, imageSize);
  if (basePass) results.base.passAtK = basePass;
  for (const { v, seed, tc } of runs) {
    const name = v.name;
    setAsideIfStale(tc, c.reuseStale, say);
    say(
      `${runName(v, seed, c)}: training (${tc.budgetTokens > 0 ? `budget ${tc.budgetTokens} tokens` : `${tc.steps} steps`})`,
    );
    const r = {
      state: c.isolate
        ? await trainInChild(tc)
        : (await train(tc, hooks.trainHooks?.(runName(v, seed, c), tc) ?? {})).state,
    };
    const latest = await latestCheckpoint(tc.runDir);
    if (!latest) throw new Error(`${name}: no checkpoint in ${tc.runDir} after training`);
    const trained = (await loadModel(latest.path)).model;
    const entry: MethodResult = {
      name,
      method: v.method,
      seed,
      runDir: relative(c.out, tc.runDir),
      eval: evaluateAll(trained, sets, tc, r.state.step),
      cost: {
        seconds: r.state.totalSeconds,
        generatedTokens: r.state.totalGeneratedTokens,
        trainedTokens: r.state.totalTrainedTokens,
        peakRssMb: peakRss(tc.runDir),
        steps: r.state.step,
      },
    };
    const pk = passAtKAll(trained, c, tc, imageSize);
    if (pk) entry.passAtK = pk;
    results.methods.push(entry);
    writeFileSync(join(c.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  }
  writeFileSync(join(c.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  // results.md is a view of results.json, through the tables every other view uses
  writeFileSync(join(c.out, 'results.md'), comparisonMarkdown(loadCompare(c.out)));
  return results;
}

export { mainMetric };
