/**
 * A deterministic segmenter that plays SAM2's role in evaluation: given an image, a box and a
 * point, it flood-fills (4-connected) the region of pixels whose colour is close to the point's
 * pixel, restricted to the box. Simple, exact on flat-coloured shapes, and reproducible.
 */
import type { Box, Point } from '../rewards/parse.js';
import { getPixel, type Mask, type RgbImage } from '../tasks/image.js';

export interface SegmentOptions {
  /** Largest per-channel difference from the seed colour still counted as the object (default 40). */
  tolerance?: number;
}

/**
 * Mask of the object at `point` inside `box`. Box coordinates are rounded and clipped to the
 * image; an inverted box or a non-finite input gives an empty mask. A point outside the box is
 * moved to the nearest box pixel, as a prompt point outside its box carries no other meaning.
 */
export function segmentFromPrompt(
  img: RgbImage,
  box: Box,
  point: Point,
  options: SegmentOptions = {},
): Mask {
  const { width: w, height: h } = img;
  const mask = new Uint8Array(w * h);
  if (![...box, ...point].every(Number.isFinite)) return mask;
  const x1 = Math.max(0, Math.round(box[0])),
    y1 = Math.max(0, Math.round(box[1]));
  const x2 = Math.min(w - 1, Math.round(box[2])),
    y2 = Math.min(h - 1, Math.round(box[3]));
  if (x2 < x1 || y2 < y1) return mask;
  const sx = Math.min(x2, Math.max(x1, Math.round(point[0])));
  const sy = Math.min(y2, Math.max(y1, Math.round(point[1])));
  const tol = options.tolerance ?? 40;
  const [r0, g0, b0] = getPixel(img, sx, sy);
  const d = img.data;
  const similar = (p: number) =>
    Math.abs(d[p * 3]! - r0) <= tol &&
    Math.abs(d[p * 3 + 1]! - g0) <= tol &&
    Math.abs(d[p * 3 + 2]! - b0) <= tol;
  // Explicit stack of pixel indices: no recursion, memory bounded by the box area.
  const stack = new Int32Array((x2 - x1 + 1) * (y2 - y1 + 1) + 1);
  let top = 0;
  stack[top++] = sy * w + sx;
  mask[sy * w + sx] = 1;
  while (top > 0) {
    const p = stack[--top]!;
    const x = p % w,
      y = (p - x) / w;
    const visit = (q: number) => {
      if (!mask[q] && similar(q)) {
        mask[q] = 1;
        stack[top++] = q;
      }
    };
    if (x > x1) visit(p - 1);
    if (x < x2) visit(p + 1);
    if (y > y1) visit(p - w);
    if (y < y2) visit(p + w);
  }
  return mask;
}
