/** Plain-text tables for the terminal. */
import type { TaskEval } from '../eval/evaluate.js';
import type { StepLog } from '../train/trainer.js';

export { textTable as table } from '../report/tables.js';
import { textTable as table } from '../report/tables.js';

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
