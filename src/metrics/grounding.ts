/**
 * Grounding evaluation over a set of samples and responses, the way the paper reports
 * RefCOCO/gRefCOCO/ReasonSeg: masks from the deterministic segmenter, then gIoU, cIoU, BboxAcc
 * and N-Acc.
 */
import { boxIoU, isProperBox } from '../rewards/geometry.js';
import { hungarian } from '../rewards/hungarian.js';
import { MAX_MATCHED_OBJECTS } from '../rewards/limits.js';
import { parseResponseObjects, type AnswerObject, type Box } from '../rewards/parse.js';
import type { RgbImage } from '../tasks/image.js';
import type { GroundTruthObject } from '../tasks/types.js';
import { maskOverlap, unionMasks, type Overlap } from './masks.js';
import { accuracy, cIoU, gIoU, nAcc } from './scores.js';
import { segmentFromPrompt, type SegmentOptions } from './segment.js';

export interface GroundingCase {
  image: RgbImage;
  /** Ground-truth objects (empty = "no object"). */
  objects: readonly GroundTruthObject[];
  /** The model's full response text. */
  response: string;
}

export interface GroundingReport {
  gIoU: number;
  cIoU: number;
  bboxAcc: number;
  /** Null when no case has an empty truth. */
  nAcc: number | null;
  count: number;
}

/**
 * Segment a response's predicted objects: each object with a proper box is segmented from its
 * point (or the box centre when it has none); the masks are unioned. Unparseable → empty.
 */
export function predictedMask(
  image: RgbImage,
  predicted: readonly AnswerObject[],
  options: SegmentOptions = {},
) {
  const masks = predicted.slice(0, MAX_MATCHED_OBJECTS).flatMap((o) => {
    if (!o.bbox || !isProperBox(o.bbox)) return [];
    const p = o.point ?? [(o.bbox[0] + o.bbox[2]) / 2, (o.bbox[1] + o.bbox[3]) / 2];
    return [segmentFromPrompt(image, o.bbox, [p[0], p[1]], options)];
  });
  return unionMasks(masks, image.width * image.height);
}

/**
 * BboxAcc for one case: every true box matched one-to-one by a predicted box with IoU > 0.5 and
 * no extra predictions. Both empty is correct.
 */
export function boxesCorrect(predicted: readonly Box[], truth: readonly Box[]): boolean {
  if (predicted.length !== truth.length) return false;
  if (truth.length === 0) return true;
  const cost = truth.map((t) => predicted.map((p) => (boxIoU(p, t) > 0.5 ? -1 : 0)));
  const assign = hungarian(cost);
  return assign.every((j, i) => j >= 0 && cost[i]![j] === -1);
}

export function evaluateGrounding(
  cases: readonly GroundingCase[],
  options: SegmentOptions = {},
): GroundingReport {
  const overlaps: Overlap[] = [];
  const boxOk: boolean[] = [];
  const truthEmpty: boolean[] = [];
  const predEmpty: boolean[] = [];
  for (const c of cases) {
    const parsed = parseResponseObjects(c.response);
    const predicted = parsed.ok ? parsed.objects : [];
    const size = c.image.width * c.image.height;
    const truthMask = unionMasks(
      c.objects.map((o) => o.mask),
      size,
    );
    // An unparseable answer is a wrong answer, never an empty one: give it an impossible mask.
    overlaps.push(
      parsed.ok
        ? maskOverlap(predictedMask(c.image, predicted, options), truthMask)
        : { intersection: 0, union: Math.max(1, maskOverlap(truthMask, null).union) },
    );
    const boxes = predicted.map((o) => o.bbox).filter((b): b is Box => b !== null);
    boxOk.push(
      parsed.ok &&
        boxes.length === predicted.length &&
        boxesCorrect(
          boxes,
          c.objects.map((o) => o.box),
        ),
    );
    truthEmpty.push(c.objects.length === 0);
    predEmpty.push(parsed.ok && predicted.length === 0);
  }
  return {
    gIoU: gIoU(overlaps),
    cIoU: cIoU(overlaps),
    bboxAcc: accuracy(boxOk),
    nAcc: nAcc(truthEmpty, predEmpty),
    count: cases.length,
  };
}
