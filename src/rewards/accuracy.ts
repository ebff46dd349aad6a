/** Accuracy reward: Hungarian matching of predicted to true objects on per-pair hits (0..3). */
import { boxIoU, boxMeanL1, pointDistance, pointInBox } from './geometry.js';
import { hungarian } from './hungarian.js';
import { MAX_MATCHED_OBJECTS } from './limits.js';
import type { AnswerObject } from './parse.js';
import { thresholdsFor, type ImageScaleOptions, type Thresholds } from './scale.js';

/** The three hits of one predicted/true pair, each 0 or 1. */
export interface PairHits {
  iou: number;
  l1: number;
  point: number;
}

/**
 * Hits of one pair: box IoU > 0.5; box mean L1 < threshold; predicted point within the distance
 * threshold of the true point AND inside the predicted object's own box. As in the reference, an
 * inverted predicted box (x2 < x1 or y2 < y1) has IoU 0 and contains no point, but its mean L1
 * is measured on its raw coordinates like any other box's, so it can earn the L1 hit.
 */
export function pairHits(pred: AnswerObject, truth: AnswerObject, t: Thresholds): PairHits {
  const hits: PairHits = { iou: 0, l1: 0, point: 0 };
  if (pred.bbox && truth.bbox) {
    if (boxIoU(pred.bbox, truth.bbox) > t.iou) hits.iou = 1;
    if (boxMeanL1(pred.bbox, truth.bbox) < t.boxL1) hits.l1 = 1;
  }
  if (pred.point && truth.point && pred.bbox && pointInBox(pred.point, pred.bbox)) {
    if (pointDistance(pred.point, truth.point) < t.pointDistance) hits.point = 1;
  }
  return hits;
}

export interface AccuracyResult {
  /** Matched hit sum / max(#pred, #true), in 0..3. */
  score: number;
  /** For each true object, the index of the predicted object matched to it, or -1. */
  truthToPred: number[];
  /** Summed hits over matched pairs. */
  hits: PairHits;
}

/**
 * Accuracy reward. Both lists empty: full score 3. Exactly one empty: 0. Otherwise a maximum-hit
 * assignment of predictions to truths; the hit sum over matched pairs divided by
 * max(#pred, #true), so missing and extra objects both cost. Only the first MAX_MATCHED_OBJECTS
 * predictions enter the matching (bounded time); all count in the denominator.
 */
export function accuracyReward(
  predicted: readonly AnswerObject[],
  truth: readonly AnswerObject[],
  options: ImageScaleOptions = {},
): AccuracyResult {
  const none: PairHits = { iou: 0, l1: 0, point: 0 };
  if (predicted.length === 0 && truth.length === 0)
    return { score: 3, truthToPred: [], hits: { iou: 0, l1: 0, point: 0 } };
  if (predicted.length === 0 || truth.length === 0)
    return { score: 0, truthToPred: truth.map(() => -1), hits: none };
  const t = thresholdsFor(options);
  const preds = predicted.slice(0, MAX_MATCHED_OBJECTS);
  const truths = truth.slice(0, MAX_MATCHED_OBJECTS);
  const table = truths.map((tr) => preds.map((p) => pairHits(p, tr, t)));
  // Hungarian minimises, so the cost is the negated hit count.
  const cost = table.map((row) => row.map((h) => -(h.iou + h.l1 + h.point)));
  const assign = hungarian(cost);
  const hits: PairHits = { iou: 0, l1: 0, point: 0 };
  assign.forEach((j, i) => {
    if (j < 0) return;
    const h = table[i]![j]!;
    hits.iou += h.iou;
    hits.l1 += h.l1;
    hits.point += h.point;
  });
  const truthToPred = truth.map((_, i) => (i < assign.length ? assign[i]! : -1));
  const score = (hits.iou + hits.l1 + hits.point) / Math.max(predicted.length, truth.length);
  return { score, truthToPred, hits };
}
