/** `visurf report DIR`: write the HTML report of a run directory or a comparison directory. */
import type { Command } from 'commander';
import { writeReport } from '../report/index.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'write a self-contained HTML report (tables, training curves, pass@k, examples) of a run or comparison directory',
    )
    .argument(
      '<dir>',
      'a run directory (metrics.jsonl, from "visurf train") or a comparison directory (results.json, from "visurf compare")',
    )
    .option('--out <file>', 'where to write the report (default DIR/report.html)')
    .action((dir: string, opts: { out?: string }) => {
      const file = writeReport(dir, opts.out);
      process.stdout.write(`${file}\n`);
    });
}
