/** `visurf eval MODEL`: greedy evaluation of a checkpoint on held-out samples of chosen tasks. */
import type { Command } from 'commander';
import { setMatmulDtype } from '../engine/index.js';
import { loadModel, resolveCheckpointDir } from '../model/index.js';
import { TASK_NAMES, isTaskName, loadCustomReward } from '../tasks/index.js';
import { MAX_EVAL_SIZE, parseTrainConfig } from '../train/config.js';
import { didYouMean } from '../train/suggest.js';
import { evalSets, runEval } from '../train/trainer.js';
import { formatEvalTable } from './tables.js';

interface EvalOptions {
  tasks: string;
  n: string;
  json?: boolean;
  examples: string;
  rewardModule?: string;
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
      const result = runEval(model, cfg, evalSets(cfg, model.config.image.size), 0, custom);
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
