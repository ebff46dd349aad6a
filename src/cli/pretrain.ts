/**
 * `visurf pretrain`: build the base model (SFT on the pre-training corpus, which leaves
 * deliberate knowledge gaps), export it, and measure the gaps as the base's pass@k on every task.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { latestCheckpoint, loadModel, saveModel } from '../model/index.js';
import { TASK_NAMES, type TaskName } from '../tasks/index.js';
import { applyOverrides, parseTrainConfig, readConfigFile } from '../train/config.js';
import { evalSamples } from '../train/data.js';
import { train, type EvalLog, type StepLog } from '../train/trainer.js';
import { passAtK } from '../eval/pass-at-k.js';
import { packagePath } from './paths.js';
import { trainProgress } from './progress.js';
import { formatEvalTable, table } from './tables.js';

interface PretrainOptions {
  config?: string;
  set: string[];
  out: string;
  gapSamples: string;
}

/** pass@k of a model on every task of the suite, in its post-training form (empties, defects). */
export async function measureGaps(
  modelDir: string,
  samples: number,
  noThink: boolean,
): Promise<Record<string, Record<string, number>>> {
  const { model } = await loadModel(modelDir);
  const out: Record<string, Record<string, number>> = {};
  const size = model.config.image.size;
  for (const task of TASK_NAMES as readonly TaskName[]) {
    out[task] = passAtK(model, evalSamples(task, samples, { width: size, height: size }), {
      n: 8,
      ks: [1, 8],
      template: 'compact',
      noThink,
      referenceSize: 840,
      maxNewTokens: model.config.maxResponseTokens,
      seed: 11,
    });
  }
  return out;
}

export function registerPretrain(program: Command): void {
  program
    .command('pretrain')
    .description(
      'pre-train the base model (with deliberate knowledge gaps), export it, and measure its pass@k per task',
    )
    .option('--config <file>', 'training config (default: configs/pretrain-small.yaml)')
    .option(
      '--set <key=value>',
      'override a config key (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--out <dir>', 'where to write the base checkpoint', 'runs/base-small')
    .option('--gap-samples <n>', 'held-out samples per task for the pass@k table', '32')
    .action(async (opts: PretrainOptions) => {
      const file = opts.config ?? packagePath('configs', 'pretrain-small.yaml');
      const cfg = parseTrainConfig(
        applyOverrides(readConfigFile(file), [...opts.set, 'method=sft']),
        file,
      );
      const bar = trainProgress('pretrain', cfg);
      const result = await train(cfg, {
        onStep: (l: StepLog) => bar.step(l),
        onEval: (e: EvalLog) => bar.log(`eval @ step ${e.step}\n${formatEvalTable(e.tasks)}`),
        onMessage: (m) => bar.log(`visurf: ${m}`),
      });
      bar.stop();
      const latest = await latestCheckpoint(result.runDir);
      if (!latest) throw new Error(`pretrain: no checkpoint in ${result.runDir}`);
      const { model } = await loadModel(latest.path);
      await saveModel(opts.out, model, { dtype: 'bf16' });
      process.stderr.write(
        `visurf: base model written to ${opts.out}; measuring pass@k per task\n`,
      );
      const gaps = await measureGaps(opts.out, Number(opts.gapSamples), cfg.noThink);
      writeFileSync(
        `${opts.out.replace(/\/+$/, '')}.gaps.json`,
        `${JSON.stringify(gaps, null, 2)}\n`,
      );
      process.stdout.write(
        `\nBase model pass@k (%) per task\n${table(
          ['task', 'pass@1', 'pass@8'],
          Object.entries(gaps).map(([t, v]) => [
            t,
            (100 * v['1']!).toFixed(1),
            (100 * v['8']!).toFixed(1),
          ]),
        )}\n`,
      );
    });
}
