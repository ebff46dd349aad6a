/**
 * `visurf export-csv RUN`: a run's metrics.jsonl as CSV for spreadsheets and trackers — one row
 * per step, one column per key, nested keys flattened with slashes (`components/accuracy`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { RUN_FILES } from '../train/run-files.js';

/** A JSON value's leaves under slash-joined keys. */
export function flatten(
  v: unknown,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}/${k}` : k, out);
  } else out[prefix] = v;
  return out;
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text of JSON lines: the union of their flattened keys as the header, in first-seen order. */
export function jsonlToCsv(text: string, source: string): string {
  const rows = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return flatten(JSON.parse(l));
      } catch {
        throw new Error(`${source}:${i + 1}: not valid JSON`);
      }
    });
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return (
    [keys.join(','), ...rows.map((r) => keys.map((k) => csvCell(r[k])).join(','))].join('\n') + '\n'
  );
}

export function registerExportCsv(program: Command): void {
  program
    .command('export-csv')
    .description(
      "write a run's metrics.jsonl (or eval.jsonl) as CSV, nested keys flattened with slashes",
    )
    .argument('<run>', 'a run directory')
    .option('--file <name>', 'the log to export', RUN_FILES.metrics)
    .option('--out <file>', 'where to write (default: stdout)')
    .action((run: string, o: { file: string; out?: string }) => {
      const path = join(run, o.file);
      const csv = jsonlToCsv(readFileSync(path, 'utf8'), path);
      if (o.out) writeFileSync(o.out, csv);
      else process.stdout.write(csv);
    });
}
