/** `visurf report DIR`: write the HTML report of a run directory or a comparison directory. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCompare } from '../report/load.js';
import { comparisonMarkdown, comparisonTables } from '../report/tables.js';
import { writeReport } from '../report/index.js';
import { writeFileAtomicSync } from '../model/atomic.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "write a self-contained HTML report (tables, training curves, pass@k, examples) of a run or comparison directory (and re-render a comparison's results.md)",
    )
    .argument(
      '<dir>',
      'a run directory (metrics.jsonl, from "visurf train") or a comparison directory (results.json, from "visurf compare")',
    )
    .option('--out <file>', 'where to write the report (default DIR/report.html)')
    .option('--json', "print the files written, and a comparison's tables, as JSON")
    .action((dir: string, opts: { out?: string; json?: boolean }) => {
      const file = writeReport(dir, opts.out);
      const written: { report: string; markdown?: string; tables?: unknown } = { report: file };
      if (!opts.json) process.stdout.write(`${file}\n`);
      // A comparison's Markdown tables are a view of results.json: re-render them too, so a
      // directory written by an older visurf gets the current table layout.
      const results = join(dir, 'results.json');
      if (existsSync(results)) {
        const md = join(dir, 'results.md');
        const data = loadCompare(dir);
        writeFileAtomicSync(md, comparisonMarkdown(data));
        written.markdown = md;
        written.tables = comparisonTables(data);
        if (!opts.json) process.stdout.write(`${md}\n`);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(written, null, 2)}\n`);
    });
}
