/** `visurf train`: post-train with one paradigm, configured by a YAML file and overrides. */
import type { Command } from 'commander';
import { METHODS, applyOverrides, parseTrainConfig, readConfigFile } from '../train/config.js';
import { runTraining } from './run-training.js';

interface TrainOptions {
  method?: string;
  config?: string;
  set: string[];
  runDir?: string;
  json?: boolean;
  align: boolean;
  thinkElimination: boolean;
  smoothing: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      "post-train a model with SFT, RLVR, SFT→RLVR, ViSurf, CHORD or LUFFY (resumes from the run directory's latest checkpoint)",
    )
    .option('--method <method>', `paradigm: ${METHODS.join(' | ')}`)
    .option('--config <file>', 'YAML or JSON config (see docs/TRAINING.md for every key)')
    .option(
      '--set <key=value>',
      'override a config key, e.g. --set rollout.groupSize=4 (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--run-dir <dir>', 'where logs and checkpoints go (config key runDir)')
    .option('--json', "print the run's final state and evaluation as JSON")
    .option(
      '--no-align',
      'ViSurf ablation: use the dataset label text as is (reward control 1 off)',
    )
    .option(
      '--no-think-elimination',
      'ViSurf ablation: score the label with an empty <think></think> (control 2 off)',
    )
    .option('--no-smoothing', 'ViSurf ablation: never smooth the label reward (control 3 off)')
    .action(async (opts: TrainOptions) => {
      let raw: Record<string, unknown> = opts.config ? readConfigFile(opts.config) : {};
      const sets = [...opts.set];
      if (opts.method) sets.push(`method=${opts.method}`);
      if (opts.runDir) sets.push(`runDir=${opts.runDir}`);
      if (!opts.align) sets.push('controls.align=false');
      if (!opts.thinkElimination) sets.push('controls.eliminateThinking=false');
      if (!opts.smoothing) sets.push('controls.smooth=false');
      raw = applyOverrides(raw, sets);
      const cfg = parseTrainConfig(raw, opts.config ?? 'config', sets);
      const result = await runTraining(`train ${cfg.method}`, cfg);
      if (result && opts.json)
        process.stdout.write(
          `${JSON.stringify({ runDir: result.runDir, steps: result.steps, state: result.state, eval: result.finalEval }, null, 2)}\n`,
        );
      else if (result) process.stdout.write(`run: ${result.runDir} (${result.steps} steps)\n`);
    });
}
