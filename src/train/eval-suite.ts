/**
 * What a run is evaluated on — the same for its curves (train), its tables (compare) and
 * `visurf eval`: the held-out generated set of every training task and of `eval.extraTasks`, or,
 * with `data.valPath`, the first `eval.size` rows of a validation file instead of the training
 * tasks' generated sets, scored at the rows' own resolution (eval/dataset-eval.ts); extra tasks
 * (e.g. the forgetting set) stay generated.
 */
import {
  evaluatePrepared,
  preparedBytes,
  prepareSamples,
  type PreparedSample,
} from '../eval/dataset-eval.js';
import { evaluateTask, type EvalOptions, type TaskEval } from '../eval/evaluate.js';
import { tokenizerOf, type ModelConfig, type VisionLanguageModel } from '../model/index.js';
import type { CustomReward, Sample, TaskName } from '../tasks/index.js';
import { ConfigError, responseBudget, type TrainConfig } from './config.js';
import { checkTasks, evalSamples, taskOptionsFor } from './data.js';
import { readTrainingDataset } from './dataset-reader.js';

export interface EvalLog {
  step: number;
  tasks: TaskEval[];
}

export interface EvalSuite {
  /** the validation file's rows, prepared for the model (empty without data.valPath) */
  readonly file: { path: string; samples: PreparedSample[] } | null;
  /** generated held-out sets, by task */
  readonly generated: ReadonlyMap<TaskName, Sample[]>;
  /** bytes the validation rows hold for the whole run (the memory estimate counts them) */
  readonly heldBytes: number;
  /** one line for people: what is evaluated, and any resize */
  readonly notice: string;
}

/** The generated held-out sets: training tasks with their options, extra tasks plain. */
export function generatedEvalSets(
  cfg: TrainConfig,
  imageSize: number,
  skip: ReadonlySet<string> = new Set(),
): Map<TaskName, Sample[]> {
  const sets = new Map<TaskName, Sample[]>();
  const plain = { width: imageSize, height: imageSize };
  for (const t of checkTasks(cfg.data.tasks, 'config: data.tasks'))
    if (!skip.has(t)) sets.set(t, evalSamples(t, cfg.eval.size, taskOptionsFor(cfg, t, imageSize)));
  for (const t of checkTasks(cfg.eval.extraTasks, 'config: eval.extraTasks'))
    if (!sets.has(t) && !skip.has(t)) sets.set(t, evalSamples(t, cfg.eval.size, plain));
  return sets;
}

/** Build a run's evaluation suite (reads and checks data.valPath, as train checks its data). */
export async function buildEvalSuite(cfg: TrainConfig, model: ModelConfig): Promise<EvalSuite> {
  const size = model.image.size;
  if (!cfg.data.valPath) {
    const generated = generatedEvalSets(cfg, size);
    return {
      file: null,
      generated,
      heldBytes: 0,
      notice: `evaluating on the generated held-out sets of ${[...generated.keys()].join(', ')}`,
    };
  }
  const path = cfg.data.valPath;
  checkTasks(cfg.eval.extraTasks, 'config: eval.extraTasks');
  const r = await readTrainingDataset(path, {
    skipBad: cfg.data.skipBadRows,
    limit: cfg.eval.size,
    prompt: {
      template: cfg.data.template,
      maxPromptTokens: model.maxPromptTokens,
      tokenizer: tokenizerOf(model),
    },
  });
  if (r.samples.length === 0)
    throw new ConfigError(`config: data.valPath: ${path}: no usable rows (${r.rows} read)`);
  const samples = await prepareSamples(r.samples, size);
  const fileTasks = new Set(r.samples.map((s) => s.task));
  // only the extra tasks: the file replaces the training tasks' generated sets
  const extraOnly = { ...cfg, data: { ...cfg.data, tasks: [] as string[] } };
  const generated = generatedEvalSets(extraOnly, size, fileTasks);
  const sizes = new Set(r.samples.map((s) => `${s.image.width}x${s.image.height}`));
  const skipped = r.bad > 0 ? `, ${r.bad} bad row(s) skipped` : '';
  return {
    file: { path, samples },
    generated,
    heldBytes: preparedBytes(samples),
    notice:
      `evaluating on ${path}: ${samples.length} rows (${[...fileTasks].join(', ')}; ` +
      `${[...sizes].slice(0, 3).join(', ')}${sizes.size > 3 ? ', …' : ''}${skipped}), each image resized to ` +
      `${size}x${size} for the model and its answer mapped back to the image's own pixels` +
      (generated.size ? `; generated: ${[...generated.keys()].join(', ')}` : ''),
  };
}

/** The evaluation options of a run's config on a model. */
export function evalOptionsOf(
  cfg: TrainConfig,
  model: ModelConfig,
  custom?: CustomReward,
): EvalOptions {
  return {
    template: cfg.data.template,
    noThink: cfg.noThink,
    referenceSize: cfg.reward.referenceSize,
    maxNewTokens: responseBudget(cfg, model),
    ...(custom ? { custom } : {}),
  };
}

/** Evaluate a model on a suite: the file's tasks first, then the generated ones. */
export function runEvalSuite(
  model: VisionLanguageModel,
  suite: EvalSuite,
  o: EvalOptions,
  step: number,
): EvalLog {
  const tasks: TaskEval[] = [];
  if (suite.file) tasks.push(...evaluatePrepared(model, suite.file.samples, o).tasks);
  for (const [task, samples] of suite.generated) tasks.push(evaluateTask(model, task, samples, o));
  return { step, tasks };
}
