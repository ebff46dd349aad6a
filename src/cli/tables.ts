/** Plain-text tables for the terminal. */
import type { TaskEval } from '../eval/evaluate.js';
import type { StepLog } from '../train/trainer.js';

/** A cell that reads as a number (`12`, `-0.5`, `99.6`, `31.9 ± 2.0`, `42%`, `-`): right-aligned. */
const NUMERIC = /^(-|–|[-+]?\d[\d,. ]*(%|±\s*\d[\d.]*)?)$/;

/**
 * A plain-text table: columns whose cells are all numbers (or `-`) right-aligned, the rest left;
 * the one renderer of every table the command line prints.
 */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const right = headers.map(
    (_, i) => rows.length > 0 && cells.slice(1).every((r) => NUMERIC.test((r[i] ?? '').trim())),
  );
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

/** One training step as a progress-line suffix. */
export function stepLine(l: StepLog): string {
  const parts = [`${l.phase}`, `loss ${l.loss.toFixed(4)}`];
  if (l.rewardMean !== undefined)
    parts.push(
      `reward ${l.rewardMean.toFixed(2)}`,
      `acc ${(100 * (l.accuracyRate ?? 0)).toFixed(0)}%`,
    );
  if (l.labelAdvantageMean !== undefined && !Number.isNaN(l.labelAdvantageMean))
    parts.push(`Â_y ${l.labelAdvantageMean.toFixed(2)}`);
  if (!Number.isNaN(l.labelNll)) parts.push(`label NLL ${l.labelNll.toFixed(3)}`);
  parts.push(`|g| ${l.gradNorm.toFixed(2)}`, `${l.seconds.toFixed(1)}s`);
  return parts.join(' · ');
}
