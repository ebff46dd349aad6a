/** Builds the `visurf` command tree. Each subcommand lives in its own module and registers here. */
import { Command } from 'commander';
import { getAddon } from '../engine/index.js';
import { registerBench } from './bench.js';
import { registerDemo } from './demo.js';
import { registerData } from './data.js';
import { registerReport } from './report.js';
import { registerReward } from './reward.js';
import { registerTrain } from './train.js';
import { registerCompare } from './compare.js';
import { registerPretrain } from './pretrain.js';
import { registerEval } from './eval.js';
import { registerConfig } from './config.js';
import { registerExportCsv } from './export-csv.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('visurf')
    .description('Post-train vision-language models with ViSurf, SFT, RLVR and SFT→RLVR on a CPU.')
    .version('0.1.0')
    .option(
      '--threads <n>',
      "compute threads of the native kernels (default: OpenMP's, i.e. every core); results are deterministic for a given count",
    )
    .showHelpAfterError()
    .hook('preAction', (root) => {
      const t = root.opts<{ threads?: string }>().threads;
      if (t === undefined) return;
      const n = Number(t);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`--threads: expected a positive integer, got "${t}"`);
      getAddon()?.setThreads(n);
      process.env['OMP_NUM_THREADS'] = String(n); // and for child processes (compare, bench)
    });
  registerBench(program);
  registerDemo(program);
  registerData(program);
  registerReport(program);
  registerReward(program);
  registerTrain(program);
  registerCompare(program);
  registerPretrain(program);
  registerEval(program);
  registerConfig(program);
  registerExportCsv(program);
  return program;
}
