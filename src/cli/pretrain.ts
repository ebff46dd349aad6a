/**
 * `visurf pretrain`: build the base model (SFT on the pre-training corpus, which leaves
 * deliberate knowledge gaps), export it, and measure the gaps as the base's pass@k on every task.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { latestCheckpoint, loadModel, saveModel } from '../model/index.js';
import { TASK_NAMES, type TaskName } from '../tasks/index.js';
import {
  ConfigError,
  applyOverrides,
  parseTrainConfig,
  readConfigFile,
  type TrainConfig,
} from '../train/config.js';
import { evalSamples } from '../train/data.js';
import { initialModel } from '../train/trainer.js';
import { setMatmulDtype } from '../engine/index.js';
import {
  VisionStageSchema,
  trainVisionStage,
  type VisionStageConfig,
} from '../train/vision-stage.js';
import { passAtK } from '../eval/pass-at-k.js';
import { packagePath } from './paths.js';
import { progress } from './progress.js';
import { runTraining } from './run-training.js';
import { table } from './tables.js';

interface PretrainOptions {
  config?: string;
  set: string[];
  out: string;
  gapSamples: string;
  json?: boolean;
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
    let set;
    try {
      set = evalSamples(task, samples, { width: size, height: size });
    } catch (e) {
      // e.g. reason and gui need more room than the 16 px test model has: say so, go on
      process.stderr.write(`visurf: pass@k of ${task} skipped: ${(e as Error).message}\n`);
      continue;
    }
    out[task] = passAtK(model, set, {
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

function parseVisionStage(raw: unknown, file: string): VisionStageConfig {
  const r = VisionStageSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issues = r.error.issues
      .map((i) => `visionStage.${i.path.join('.')}: ${i.message}`)
      .join('; ');
    throw new ConfigError(`${file}: ${issues}`);
  }
  return r.data;
}

/**
 * The vision stage (train/vision-stage.ts), once per run directory: its result is a checkpoint
 * in <runDir>/vision-stage that the SFT stage starts from. A finished stage is not run again;
 * an interrupted one runs again from its start (it is deterministic and takes minutes).
 */
async function runVisionStage(cfg: TrainConfig, stage: VisionStageConfig): Promise<string> {
  const dir = join(cfg.runDir, 'vision-stage');
  if (existsSync(join(dir, 'COMPLETE'))) {
    process.stderr.write(`visurf: vision stage already done (${dir}); starting from it\n`);
    return dir;
  }
  setMatmulDtype(cfg.model.precision);
  const model = await initialModel(cfg);
  const bar = progress('vision stage', stage.steps);
  const t0 = performance.now();
  const result = trainVisionStage(model, stage, cfg.seed, {
    onStep: (l) =>
      bar.update(
        l.step,
        `loss ${l.loss.toFixed(3)} · colour ${(100 * l.colourAccuracy).toFixed(1)}% · shape ${(100 * l.shapeAccuracy).toFixed(1)}% · box ${l.boxL1Px.toFixed(2)} px`,
      ),
    onEval: (e) =>
      bar.log(
        `vision stage @ step ${e.step} (held out): colour ${(100 * e.colourAccuracy).toFixed(1)}% · shape ${(100 * e.shapeAccuracy).toFixed(1)}% · box error ${e.boxL1Px.toFixed(2)} px${stage.digitTargets || stage.coordTargets ? ` · ${stage.coordTargets ? 'coordinates' : 'digits'} ${(100 * e.digitAccuracy).toFixed(1)}%` : ''}`,
      ),
  });
  bar.stop();
  await saveModel(dir, model);
  writeFileSync(
    join(cfg.runDir, 'vision-stage.json'),
    `${JSON.stringify({ config: stage, seconds: (performance.now() - t0) / 1000, evals: result.evals, logs: result.logs }, null, 1)}\n`,
  );
  return dir;
}

/**
 * --out is replaced by the exported checkpoint at the end: refuse, before training, a path that
 * is a file or a directory holding anything but a checkpoint (replacing it would delete it).
 */
function checkOutDir(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new ConfigError(`--out ${out}: exists and is not a directory`);
  const entries = readdirSync(out);
  if (entries.length > 0 && !entries.includes('config.json'))
    throw new ConfigError(
      `--out ${out}: a directory that is not a model checkpoint (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); the export would replace it`,
    );
}

export function registerPretrain(program: Command): void {
  program
    .command('pretrain')
    .description(
      'pre-train the base model (with deliberate knowledge gaps), export it, and measure its pass@k per task',
    )
    .option('--config <file>', 'training config (default: configs/pretrain-base.yaml)')
    .option(
      '--set <key=value>',
      'override a config key (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--out <dir>', 'where to write the base checkpoint', 'runs/base')
    .option('--gap-samples <n>', 'held-out samples per task for the pass@k table', '32')
    .option('--json', 'print the result (checkpoint, final evaluation, pass@k) as JSON')
    .action(async (opts: PretrainOptions) => {
      const file = opts.config ?? packagePath('configs', 'pretrain-base.yaml');
      const { visionStage: rawStage, ...rest } = applyOverrides(readConfigFile(file), [
        ...opts.set,
        'method=sft',
      ]) as Record<string, unknown>;
      const cfg = parseTrainConfig(rest, file, opts.set);
      checkOutDir(opts.out); // before an hour of training, not after
      const stage = parseVisionStage(rawStage, file);
      if (stage.steps > 0) cfg.model.init = await runVisionStage(cfg, stage);
      const result = await runTraining('pretrain', cfg);
      if (!result) return; // interrupted: saved; the same command resumes
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
      if (opts.json) {
        const json = {
          out: opts.out,
          runDir: result.runDir,
          steps: result.steps,
          eval: result.finalEval,
          passAtK: gaps,
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
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
