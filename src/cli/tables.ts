/** Plain-text tables for the terminal. */
import type { TaskEval } from '../eval/evaluate.js';

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

const pct = (x: number | null | undefined) =>
  x === undefined || x === null || Number.isNaN(x) ? '-' : (100 * x).toFixed(1);

export function formatEvalTable(tasks: readonly TaskEval[]): string {
  return table(
    ['task', 'n', 'reward', 'acc%', 'format%', 'gIoU', 'cIoU', 'N-Acc', 'AUC'],
    tasks.map((t) => [
      t.task,
      t.n,
      t.reward.toFixed(2),
      pct(t.accuracy),
      pct(t.formatRate),
      pct(t.gIoU),
      pct(t.cIoU),
      pct(t.nAcc),
      pct(t.auc),
    ]),
  );
}
