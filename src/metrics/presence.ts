/**
 * Yes/no evaluation for tasks whose answer is "something" or "nothing" (anomaly: a defect or
 * `[]`; nonobj: an object or `[]`): accuracy of the presence decision and ROC AUC of a presence
 * score, as RealIAD-style benchmarks report.
 */
import { parseResponseObjects } from '../rewards/parse.js';
import { accuracy, rocAuc } from './scores.js';

/** True when the response lists at least one object, false for `[]`, null when unparseable. */
export function predictsPresence(response: unknown): boolean | null {
  const parsed = parseResponseObjects(response);
  return parsed.ok ? parsed.objects.length > 0 : null;
}

export interface PresenceCase {
  /** Whether the ground truth has an object (a defect, a referent). */
  present: boolean;
  /** One or more responses to the case (e.g. the G rollouts). */
  responses: readonly string[];
}

export interface PresenceReport {
  /** Fraction of all responses whose decision is right (unparseable = wrong). */
  accuracy: number;
  /**
   * ROC AUC of the per-case score "fraction of responses predicting presence" against the
   * truth; null when only one class occurs. With one response per case the score is 0/1.
   */
  rocAuc: number | null;
}

export function evaluatePresence(cases: readonly PresenceCase[]): PresenceReport {
  const correct: boolean[] = [];
  const scores: number[] = [];
  const labels: boolean[] = [];
  for (const c of cases) {
    let yes = 0;
    for (const r of c.responses) {
      const p = predictsPresence(r);
      correct.push(p !== null && p === c.present);
      if (p) yes++;
    }
    scores.push(c.responses.length ? yes / c.responses.length : 0);
    labels.push(c.present);
  }
  return { accuracy: accuracy(correct), rocAuc: rocAuc(scores, labels) };
}
