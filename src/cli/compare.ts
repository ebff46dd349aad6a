/** `visurf compare`: every paradigm from one base under one budget, evaluated on the suite. */
import type { Command } from 'commander';
import { applyOverrides, readConfigFile } from '../train/config.js';
import { compare, parseCompareConfig, type CompareResults } from '../experiment/compare.js';
import { loadCompare } from '../report/load.js';
import { comparisonTables } from '../report/tables.js';
import type { StepLog } from '../train/trainer.js';
import { trainProgress } from './progress.js';
import { writeReport } from '../report/index.js';
import { table } from './tables.js';

export interface CompareCliOptions {
  config?: string;
  set: string[];
  out?: string;
  base?: string;
  ablations?: boolean;
  seeds?: string;
  reuseStale?: boolean;
  json?: boolean;
}

/** Write a comparison's report, then print its tables (or, with json, results.json + report). */
export function finishCompare(results: CompareResults, out: string, json: boolean): void {
  const report = writeReport(out);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...results, report }, null, 2)}\n`);
    return;
  }
  for (const t of comparisonTables(loadCompare(out)))
    process.stdout.write(`\n${t.title}\n${table(t.headers, t.rows)}\n`);
  process.stdout.write(`\nresults: ${out}/results.json, ${out}/results.md\nreport: ${report}\n`);
}

export async function runCompare(
  raw: Record<string, unknown>,
  source: string,
  command: string,
): Promise<{ results: CompareResults; out: string }> {
  const cfg = parseCompareConfig(raw, source);
  const results = await compare(cfg, command, {
    onMessage: (m) => process.stderr.write(`visurf: ${m}\n`),
    trainHooks: (name, run) => {
      let bar: ReturnType<typeof trainProgress> | null = null;
      return {
        onStep: (l: StepLog) => {
          bar ??= trainProgress(name.padEnd(12), run);
          bar.step(l);
        },
        onMessage: (m: string) => process.stderr.write(`visurf: ${name}: ${m}\n`),
      };
    },
  });
  return { results, out: cfg.out };
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      'train base → SFT, RLVR, SFT→RLVR, ViSurf (and ablations) under one budget; evaluate all on every task; write results.json/.md',
    )
    .option(
      '--config <file>',
      'compare config (YAML/JSON; e.g. configs/demo.yaml, configs/compare-suite.yaml)',
    )
    .option(
      '--set <key=value>',
      'override a key, e.g. --set train.budgetTokens=2000000 (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--out <dir>', 'output directory')
    .option('--base <dir>', 'base model checkpoint directory')
    .option('--ablations', 'also run ViSurf without each reward control')
    .option('--seeds <list>', 'comma-separated seeds, e.g. 0,1,2')
    .option('--json', 'print results.json (and the report path) instead of the tables')
    .option(
      '--reuse-stale',
      'reuse run directories trained with a different config (normally set aside and retrained)',
    )
    .action(async (opts: CompareCliOptions) => {
      const sets = [...opts.set];
      if (opts.out) sets.push(`out=${opts.out}`);
      if (opts.base) sets.push(`base=${opts.base}`);
      if (opts.ablations) sets.push('ablations=true');
      if (opts.seeds) sets.push(`seeds=[${opts.seeds}]`);
      if (opts.reuseStale) sets.push('reuseStale=true');
      const raw = applyOverrides(opts.config ? readConfigFile(opts.config) : {}, sets);
      const { results, out } = await runCompare(
        raw,
        opts.config ?? 'compare',
        `visurf ${process.argv.slice(2).join(' ')}`,
      );
      finishCompare(results, out, opts.json ?? false);
    });
}
