/**
 * Where prompts come from: the procedural task suite (sample i of a split is a pure function of
 * the seed and i, so a resumed run sees exactly the same data), or a dataset file.
 */
import { readTrainingDataset, type PromptCheck } from './dataset-reader.js';
import type { ColumnMap } from '../data/index.js';
import {
  generateSample,
  isTaskName,
  TASK_NAMES,
  mixSeed,
  type Sample,
  type TaskName,
  type TaskOptions,
} from '../tasks/index.js';
import { tokenizerOf, type ModelConfig } from '../model/index.js';

export { promptTokens } from '../model/index.js';
import { ConfigError, type TrainConfig } from './config.js';
import { didYouMean } from './suggest.js';

export interface SampleSource {
  readonly size: number | null;
  get(i: number): Sample;
}

/** Seed bases keep the train stream and the (shared, fixed) evaluation set disjoint. */
const TRAIN_SEED_STRIDE = 1_000_000;
const EVAL_SEED_BASE = 2_000_000_000;

/** Task names from a config field; `where` names the field, e.g. `config: data.tasks`. */
export function checkTasks(tasks: readonly string[], where: string): TaskName[] {
  return tasks.map((t) => {
    if (!isTaskName(t))
      throw new ConfigError(`${where}: unknown task "${t}"${didYouMean(t, TASK_NAMES)}`);
    return t;
  });
}

/**
 * An endless stream of generated training samples. Sample i's task is drawn from the task
 * weights by a hash of (seed, i), so the stream is a pure function of the seed: a resumed run
 * sees exactly the same data.
 */
export function generatedTrainSource(
  tasks: readonly TaskName[],
  seed: number,
  options: TaskOptions,
  perTask: Partial<Record<string, TaskOptions>> = {},
  weights: Partial<Record<string, number>> = {},
): SampleSource {
  const w = tasks.map((t) => weights[t] ?? 1);
  const total = w.reduce((a, b) => a + b, 0);
  const pick = (i: number): TaskName => {
    if (tasks.length === 1) return tasks[0]!;
    let u = (mixSeed(seed, `task-${i}`) / 4294967296) * total;
    for (let k = 0; k < tasks.length; k++) {
      u -= w[k]!;
      if (u < 0) return tasks[k]!;
    }
    return tasks[tasks.length - 1]!;
  };
  return {
    size: null,
    get: (i) => {
      const task = pick(i);
      return generateSample(task, TRAIN_SEED_STRIDE * (seed + 1) + i, {
        ...options,
        ...perTask[task],
      });
    },
  };
}

/**
 * Curriculum stages, then the main source: the first `samples[0]` samples come from stage 0, the
 * next `samples[1]` from stage 1, and so on; index i of the main source is the sample's global
 * index, so every sample stays a pure function of (seed, i) and resumes are exact.
 */
export function stagedSource(
  stages: ReadonlyArray<{ samples: number; source: SampleSource }>,
  main: SampleSource,
): SampleSource {
  if (!stages.length) return main;
  return {
    size: null,
    get: (i) => {
      let start = 0;
      for (const st of stages) {
        if (i < start + st.samples) return st.source.get(i);
        start += st.samples;
      }
      return main.get(i);
    },
  };
}

/** The held-out evaluation set of a task: the same for every run and seed. */
export function evalSamples(task: TaskName, n: number, options: TaskOptions = {}): Sample[] {
  return Array.from({ length: n }, (_, i) => generateSample(task, EVAL_SEED_BASE + i, options));
}

/** Training samples from a dataset file, cycled; `say` gets one line on what was read and resized. */
export async function datasetTrainSource(
  path: string,
  opts: {
    skipBad: boolean;
    size: { width: number; height: number };
    prompt?: PromptCheck;
    columns?: ColumnMap;
    say?: (line: string) => void;
  },
): Promise<SampleSource> {
  const sizes = new Set<string>();
  const r = await readTrainingDataset(path, {
    skipBad: opts.skipBad,
    resize: opts.size,
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
    ...(opts.columns ? { columns: opts.columns } : {}),
    onFullSize: (s) => sizes.add(`${s.image.width}x${s.image.height}`),
  }); // dataset-reader.ts: + solution and prompt checks
  if (r.samples.length === 0) {
    throw new ConfigError(`${path}: no usable rows (${r.rows} read, ${r.bad} bad)`);
  }
  const list = [...sizes];
  const { width, height } = opts.size;
  opts.say?.(
    `${path}: ${r.samples.length} rows (${list.slice(0, 3).join(', ')}${list.length > 3 ? ', …' : ''})` +
      (list.length === 1 && list[0] === `${width}x${height}`
        ? ''
        : `, each image resized to ${width}x${height} (stretched; boxes, points and masks scaled with it)`) +
      (r.bad > 0 ? `; skipped ${r.bad} bad row(s) of ${r.rows}` : ''),
  );
  return { size: r.samples.length, get: (i) => r.samples[i % r.samples.length]! };
}

export async function trainSource(
  cfg: TrainConfig,
  imageSize: number,
  model?: ModelConfig,
  say?: (line: string) => void,
): Promise<SampleSource> {
  const prompt =
    model === undefined
      ? undefined
      : {
          template: cfg.data.template,
          maxPromptTokens: model.maxPromptTokens,
          tokenizer: tokenizerOf(model),
        };
  if (cfg.data.path)
    return datasetTrainSource(cfg.data.path, {
      skipBad: cfg.data.skipBadRows,
      size: { width: imageSize, height: imageSize },
      columns: cfg.data.columns,
      ...(prompt ? { prompt } : {}),
      ...(say ? { say } : {}),
    });
  const tasks = checkTasks(cfg.data.tasks, 'config: data.tasks');
  checkTasks(Object.keys(cfg.data.perTaskOptions), 'config: data.perTaskOptions');
  checkTasks(Object.keys(cfg.data.taskWeights), 'config: data.taskWeights');
  const options = { ...cfg.data.taskOptions, width: imageSize, height: imageSize } as TaskOptions;
  const perTask = cfg.data.perTaskOptions as Record<string, TaskOptions>;
  const stages = cfg.data.curriculum.map((st, k) => {
    const where = `config: data.curriculum[${k}]`;
    checkTasks(Object.keys(st.taskWeights), `${where}.taskWeights`);
    return {
      samples: st.steps * cfg.promptsPerStep,
      source: generatedTrainSource(
        checkTasks(st.tasks, `${where}.tasks`),
        cfg.seed,
        options,
        perTask,
        st.taskWeights,
      ),
    };
  });
  return stagedSource(
    stages,
    generatedTrainSource(tasks, cfg.seed, options, perTask, cfg.data.taskWeights),
  );
}

/**
 * A task's generator options under a config: the shared `taskOptions`, then the task's own
 * `perTaskOptions`, at the model's image size (training, evaluation and pass@k all use this).
 */
export function taskOptionsFor(cfg: TrainConfig, task: string, imageSize: number): TaskOptions {
  return {
    ...(cfg.data.taskOptions as TaskOptions),
    ...(cfg.data.perTaskOptions[task] as TaskOptions | undefined),
    width: imageSize,
    height: imageSize,
  };
}
