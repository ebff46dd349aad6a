/**
 * Box and point geometry in inclusive integer pixel coordinates, as Seg-Zero/VisionReasoner use:
 * a box `[x1, y1, x2, y2]` covers columns x1..x2 and rows y1..y2, so its area is
 * (x2 − x1 + 1)(y2 − y1 + 1). A box with x2 < x1 or y2 < y1 is inverted: it has no area.
 */
import type { Box, Point } from './parse.js';

/** True when the box is not inverted (x1 <= x2 and y1 <= y2). */
export function isProperBox(b: Box): boolean {
  return b[0] <= b[2] && b[1] <= b[3];
}

/** Inclusive area; 0 for an inverted box. */
export function boxArea(b: Box): number {
  if (!isProperBox(b)) return 0;
  return (b[2] - b[0] + 1) * (b[3] - b[1] + 1);
}

/** Intersection-over-union of two inclusive boxes; 0 when either is inverted. */
export function boxIoU(a: Box, b: Box): number {
  if (!isProperBox(a) || !isProperBox(b)) return 0;
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Mean absolute difference of the four coordinates. */
export function boxMeanL1(a: Box, b: Box): number {
  return (
    (Math.abs(a[0] - b[0]) +
      Math.abs(a[1] - b[1]) +
      Math.abs(a[2] - b[2]) +
      Math.abs(a[3] - b[3])) /
    4
  );
}

/** Euclidean distance between two points. */
export function pointDistance(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** True when the point lies inside the (proper) box, edges included. */
export function pointInBox(p: Point, b: Box): boolean {
  return isProperBox(b) && p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3];
}
