/**
 * Every table visurf prints or writes, in one place: the table models (results, reply format,
 * cost, pass@k — built from ReportData by series.ts, the same numbers the HTML report shows) and
 * the renderers for the terminal and for Markdown, both with numeric columns right-aligned.
 */
import type { ReportData } from './load.js';
import { mean, sampleStd } from '../metrics/index.js';
import { costTable, resultsTable, type Cell } from './series.js';

export interface TextTable {
  title: string;
  headers: string[];
  rows: string[][];
}

/** A cell that reads as a number (`12`, `-0.5`, `99.6`, `31.9 ± 2.0`, `42%`, `-`): right-aligned. */
const NUMERIC = /^(-|–|[-+]?\d[\d,. ]*(%|±\s*\d[\d.]*)?)$/;

function numericColumns(headers: readonly string[], rows: readonly string[][]): boolean[] {
  return headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => NUMERIC.test((r[i] ?? '').trim())),
  );
}

/** A plain-text table: numeric columns right-aligned, the rest left. */
export function textTable(headers: string[], rows: Array<Array<string | number>>): string {
  const body = rows.map((r) => r.map((c) => String(c)));
  const cells = [headers, ...body];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const right = numericColumns(headers, body);
  const line = (r: string[]) =>
    r
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** A Markdown table: numeric columns marked right-aligned (`---:`). */
export function markdownTable(t: Pick<TextTable, 'headers' | 'rows'>): string {
  const right = numericColumns(t.headers, t.rows);
  return [
    `| ${t.headers.join(' | ')} |`,
    `| ${t.headers.map((_, i) => (right[i] ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const pct = (v: number | null | undefined) =>
  v === undefined || v === null || Number.isNaN(v) ? '–' : (100 * v).toFixed(1);

/** A value over seeds in %: the value (one seed), or mean ± sample std (several). */
function meanSpread(value: number | null | undefined, spread: number | null | undefined): string {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  return spread === undefined || spread === null
    ? pct(value)
    : `${pct(value)} ± ${(100 * spread).toFixed(1)}`;
}

const secondaryOf = (c: Cell | undefined, name: string) =>
  c?.secondary.find((s) => s.name === name);

/** The paper's Table 1 shape: main metric per task, N-Acc and AUC beside it where measured. */
export function resultsText(data: ReportData): TextTable {
  const { tasks, rows } = resultsTable(data);
  const headers = ['method'];
  const columns: Array<(r: (typeof rows)[number]) => string> = [];
  for (const t of tasks) {
    const metric = rows.map((r) => r.cells[t]?.metric).find((m) => m) ?? '';
    headers.push(`${t} ${metric}`);
    columns.push((r) => meanSpread(r.cells[t]?.value, r.cells[t]?.spread));
    for (const extra of ['N-Acc', 'AUC'])
      if (rows.some((r) => secondaryOf(r.cells[t], extra))) {
        headers.push(`${t} ${extra}`);
        columns.push((r) => {
          const s = secondaryOf(r.cells[t], extra);
          return meanSpread(s?.value, s?.spread);
        });
      }
  }
  return {
    title: 'Results (%; gIoU for grounding tasks, accuracy otherwise)',
    headers,
    rows: rows.map((r) => [
      r.runs > 1 ? `${r.name} (${r.runs} seeds)` : r.name,
      ...columns.map((c) => c(r)),
    ]),
  };
}

/**
 * % of replies in the trained form (a closed `<think>` block, then a parseable answer): Table
 * 1's metrics hide a model that answers right in the wrong form; this table shows it.
 */
export function formatText(data: ReportData): TextTable {
  const { tasks, rows } = resultsTable(data);
  return {
    title: 'Reply format (% of replies with a closed <think> block and a parseable answer)',
    headers: ['method', ...tasks],
    rows: rows.map((r) => [
      r.runs > 1 ? `${r.name} (${r.runs} seeds)` : r.name,
      ...tasks.map((t) => {
        const s = secondaryOf(r.cells[t], 'format');
        return meanSpread(s?.value, s?.spread);
      }),
    ]),
  };
}

/** The paper's Table 6 shape: wall time, tokens and peak memory per method (mean over seeds). */
export function costText(data: ReportData): TextTable {
  const n = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : '–');
  return {
    title: 'Training cost (Table 6 shape; mean over seeds)',
    headers: [
      'method',
      'runs',
      'wall time (s)',
      'generated tokens',
      'trained tokens',
      'peak RSS (MB)',
    ],
    rows: costTable(data).map((r) => [
      r.name,
      String(r.runs),
      n(r.cost.seconds),
      n(r.cost.generatedTokens),
      n(r.cost.trainedTokens),
      n(r.cost.peakRssMb),
    ]),
  };
}

/** pass@k (%) of the base and each method (mean ± std over seeds); null without pass@k. */
export function passAtKText(data: ReportData): TextTable | null {
  const base = data.base?.passAtK;
  if (!base) return null;
  const ks = Object.keys(Object.values(base)[0] ?? {});
  const rows: string[][] = [];
  for (const [task, v] of Object.entries(base))
    rows.push(['base', task, ...ks.map((k) => pct(v[k]))]);
  const names = [...new Set(data.methods.map((m) => m.name))];
  for (const name of names) {
    const runs = data.methods.filter((m) => m.name === name);
    for (const task of Object.keys(runs[0]!.passAtK ?? {}))
      rows.push([
        name,
        task,
        ...ks.map((k) => {
          const v = runs
            .map((m) => m.passAtK?.[task]?.[k])
            .filter((x): x is number => typeof x === 'number');
          if (!v.length) return '–';
          return meanSpread(mean(v), v.length > 1 ? sampleStd(v) : null);
        }),
      ]);
  }
  return {
    title: `pass@k (%)${(data.seeds?.length ?? 1) > 1 ? ' — mean ± std over seeds' : ''}`,
    headers: ['model', 'task', ...ks.map((k) => `pass@${k}`)],
    rows,
  };
}

/** Every table of a comparison, in the order they are printed. */
export function comparisonTables(data: ReportData): TextTable[] {
  const pk = passAtKText(data);
  return [resultsText(data), formatText(data), costText(data), ...(pk ? [pk] : [])];
}

/** results.md: the comparison's tables as Markdown, under the command that made them. */
export function comparisonMarkdown(data: ReportData): string {
  const head = [
    '# visurf compare',
    '',
    ...(data.command ? [`Command: \`${data.command}\``] : []),
    `Created: ${data.createdAt ?? '–'}; base: \`${data.base?.path ?? '–'}\`; seeds: ${(data.seeds ?? [0]).join(', ')}`,
    '',
  ];
  const body = comparisonTables(data).flatMap((t) => [`## ${t.title}`, '', markdownTable(t), '']);
  return [...head, ...body].join('\n');
}
