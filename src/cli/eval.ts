/** `visurf eval MODEL`: greedy evaluation of a checkpoint on held-out samples of chosen tasks. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { evaluateDataset } from '../eval/dataset-eval.js';
import type { TaskEval } from '../eval/evaluate.js';
import { readTrainingDataset } from '../train/dataset-reader.js';
import type { TrainConfig } from '../train/config.js';
import { setMatmulDtype } from '../engine/index.js';
import {
  loadModel,
  resolveCheckpointDir,
  tokenizerOf,
  type VisionLanguageModel,
} from '../model/index.js';
import { TASK_NAMES, isTaskName, loadCustomReward, type CustomReward } from '../tasks/index.js';
import { MAX_EVAL_SIZE, parseTrainConfig } from '../train/config.js';
import { didYouMean } from '../train/suggest.js';
import { evalOptionsOf, generatedEvalSets } from '../train/eval-suite.js';
import { evaluateTask } from '../eval/evaluate.js';
import { formatEvalTable } from './tables.js';
import { COLUMNS_FLAG_HELP, parseColumnsFlag } from './columns-flag.js';

interface EvalOptions {
  tasks: string;
  n: string;
  json?: boolean;
  examples: string;
  rewardModule?: string;
  data?: string;
  limit: string;
  predictions?: string;
  task: string;
  columns?: string;
}

/**
 * The generated held-out sets one task at a time: only one task's samples (up to --n) and its
 * replies are alive at once, whatever the number of tasks; each task's row is kept, small.
 */
function evaluateTaskByTask(
  model: VisionLanguageModel,
  cfg: TrainConfig,
  custom: CustomReward | undefined,
): { tasks: TaskEval[] } {
  const tasks: TaskEval[] = [];
  const o = evalOptionsOf(cfg, model.config, custom);
  for (const task of cfg.data.tasks) {
    const one = { ...cfg, data: { ...cfg.data, tasks: [task] } };
    let sets;
    try {
      sets = generatedEvalSets(one, model.config.image.size);
    } catch (e) {
      // e.g. reason and gui need more room than a 16 px model's images: say so, go on
      process.stderr.write(`visurf: ${task} skipped: ${(e as Error).message}\n`);
      continue;
    }
    for (const [t, samples] of sets) tasks.push(evaluateTask(model, t, samples, o));
  }
  return { tasks };
}

/** `--data`: the file's rows (checked as train checks them), evaluated at their own resolution. */
async function evaluateFile(
  model: VisionLanguageModel,
  opts: EvalOptions,
  cfg: TrainConfig,
  custom: CustomReward | undefined,
): Promise<{ tasks: TaskEval[] }> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVAL_SIZE)
    throw new Error(`--limit: expected an integer from 1 to ${MAX_EVAL_SIZE}, got "${opts.limit}"`);
  if (!isTaskName(opts.task))
    throw new Error(`--task: unknown task "${opts.task}"${didYouMean(opts.task, TASK_NAMES)}`);
  const file = opts.data!;
  const r = await readTrainingDataset(file, {
    skipBad: false,
    limit,
    task: opts.task,
    columns: parseColumnsFlag(opts.columns),
    prompt: {
      template: cfg.data.template,
      maxPromptTokens: model.config.maxPromptTokens,
      tokenizer: tokenizerOf(model.config),
    },
  });
  const size = model.config.image.size;
  const sizes = new Set(r.samples.map((s) => `${s.image.width}x${s.image.height}`));
  process.stderr.write(
    `visurf: ${file}: ${r.samples.length} rows (${[...sizes].slice(0, 3).join(', ')}${sizes.size > 3 ? ', …' : ''}); each image resized to ${size}x${size} for the model, its answer mapped back to the image's own pixels\n`,
  );
  const out = await evaluateDataset(model, r.samples, {
    template: cfg.data.template,
    noThink: cfg.noThink,
    referenceSize: cfg.reward.referenceSize,
    maxNewTokens: model.config.maxResponseTokens,
    ...(custom ? { custom } : {}),
  });
  if (opts.predictions)
    writeFileSync(opts.predictions, out.predictions.map((p) => `${JSON.stringify(p)}\n`).join(''));
  return out;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'evaluate a model checkpoint on the held-out set of each task (the same samples train and compare use), greedy',
    )
    .argument(
      '<model>',
      'a shipped model name (base, base-small), a checkpoint directory, or a run directory (its latest checkpoint)',
    )
    .option('--tasks <list>', `comma-separated tasks (${TASK_NAMES.join(', ')}) or all`, 'colorqa')
    .option('--n <count>', 'held-out samples per task', '64')
    .option('--examples <count>', 'example replies to print per task', '0')
    .option('--json', 'print the evaluation as JSON instead of a table')
    .option(
      '--reward-module <file>',
      'score with a reward module (as reward.module) instead of the built-in total',
    )
    .option(
      '--data <file>',
      "evaluate on a dataset file (Parquet/JSONL, training or evaluation layout) instead of generated tasks: answers mapped back to each image's own resolution, scored against its masks",
    )
    .option('--limit <rows>', 'with --data: rows read at most', '1000')
    .option(
      '--predictions <file>',
      'with --data: write every reply (and its rescaled form) as JSONL',
    )
    .option('--task <name>', 'with --data: task of rows without a task column', 'refer')
    .option('--columns <map>', `with --data: ${COLUMNS_FLAG_HELP}`)
    .action(async (dir: string, opts: EvalOptions) => {
      const n = Number(opts.n);
      if (!Number.isInteger(n) || n < 1 || n > MAX_EVAL_SIZE)
        throw new Error(`--n: expected an integer from 1 to ${MAX_EVAL_SIZE}, got "${opts.n}"`);
      const tasks =
        opts.tasks === 'all' ? [...TASK_NAMES] : opts.tasks.split(',').map((t) => t.trim());
      const bad = tasks.find((t) => !isTaskName(t));
      if (bad !== undefined)
        throw new Error(
          `--tasks: unknown task "${bad}"${didYouMean(bad, TASK_NAMES)}; expected ${TASK_NAMES.join(', ')} or all`,
        );
      const cfg = parseTrainConfig({ data: { tasks }, eval: { size: n } }, 'eval');
      const { model } = await loadModel(await resolveCheckpointDir(dir));
      setMatmulDtype(cfg.model.precision);
      const custom = opts.rewardModule ? await loadCustomReward(opts.rewardModule) : undefined;
      const result = opts.data
        ? await evaluateFile(model, opts, cfg, custom)
        : evaluateTaskByTask(model, cfg, custom);
      if (custom?.failures)
        process.stderr.write(
          `visurf: ${custom.failures} repl(ies) scored 0: the reward module failed (first: ${custom.firstFailure})\n`,
        );
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result.tasks, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${formatEvalTable(result.tasks)}\n`);
      const k = Number(opts.examples);
      for (const t of result.tasks)
        for (const e of t.examples.slice(0, k))
          process.stdout.write(
            `${t.task} · ${e.prompt} → ${e.response} (expected ${e.solution})\n`,
          );
    });
}
