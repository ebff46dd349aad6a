/** RGB images and binary masks, the pixel containers shared by the renderer, metrics and data I/O. */
import type { Box, Point } from '../rewards/parse.js';

import type { RgbImage } from '../engine/image.js';

export type { RgbImage };

/** A colour as [r, g, b], each 0..255. */
export type Rgb = readonly [number, number, number];

/** Binary mask, one byte (0 or 1) per pixel, row-major, same size as its image. */
export type Mask = Uint8Array;

export function createImage(width: number, height: number, fill: Rgb = [0, 0, 0]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = fill[0];
    data[i * 3 + 1] = fill[1];
    data[i * 3 + 2] = fill[2];
  }
  return { width, height, data };
}

export function setPixel(img: RgbImage, x: number, y: number, c: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const i = (y * img.width + x) * 3;
  img.data[i] = c[0];
  img.data[i + 1] = c[1];
  img.data[i + 2] = c[2];
}

export function getPixel(img: RgbImage, x: number, y: number): Rgb {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

/** Paint every mask pixel with a colour. */
export function paintMask(img: RgbImage, mask: Mask, c: Rgb): void {
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    img.data[p * 3] = c[0];
    img.data[p * 3 + 1] = c[1];
    img.data[p * 3 + 2] = c[2];
  }
}

export function maskArea(mask: Mask): number {
  let n = 0;
  for (let p = 0; p < mask.length; p++) n += mask[p]!;
  return n;
}

/** Inclusive bounding box of the mask's pixels, or null for an empty mask. */
export function maskBox(mask: Mask, width: number): Box | null {
  let x1 = Infinity,
    y1 = Infinity,
    x2 = -1,
    y2 = -1;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    const x = p % width;
    const y = (p - x) / width;
    if (x < x1) x1 = x;
    if (x > x2) x2 = x;
    if (y < y1) y1 = y;
    if (y > y2) y2 = y;
  }
  return x2 < 0 ? null : [x1, y1, x2, y2];
}

/**
 * A representative point guaranteed to lie on the mask: the mask pixel nearest the mask's
 * centroid (ties to the first in row order). For convex shapes that is the centre.
 */
export function maskPoint(mask: Mask, width: number): Point | null {
  let sx = 0,
    sy = 0,
    n = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    const x = p % width;
    sx += x;
    sy += (p - x) / width;
    n++;
  }
  if (n === 0) return null;
  const cx = sx / n,
    cy = sy / n;
  let best = -1,
    bestD = Infinity;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    const x = p % width;
    const y = (p - x) / width;
    const d = (x - cx) ** 2 + (y - cy) ** 2;
    if (d < bestD) {
      bestD = d;
      best = p;
    }
  }
  return [best % width, Math.floor(best / width)];
}

/** Mask of the pixels inside an inclusive box (clipped to the image). */
export function boxMask(box: Box, width: number, height: number): Mask {
  const m = new Uint8Array(width * height);
  const x1 = Math.max(0, Math.ceil(box[0])),
    y1 = Math.max(0, Math.ceil(box[1]));
  const x2 = Math.min(width - 1, Math.floor(box[2])),
    y2 = Math.min(height - 1, Math.floor(box[3]));
  for (let y = y1; y <= y2; y++) for (let x = x1; x <= x2; x++) m[y * width + x] = 1;
  return m;
}

/** Draw a 1-pixel rectangle outline (for contact sheets and GUI buttons). */
export function strokeBox(img: RgbImage, box: Box, c: Rgb): void {
  const [x1, y1, x2, y2] = box.map(Math.round) as [number, number, number, number];
  for (let x = x1; x <= x2; x++) {
    setPixel(img, x, y1, c);
    setPixel(img, x, y2, c);
  }
  for (let y = y1; y <= y2; y++) {
    setPixel(img, x1, y, c);
    setPixel(img, x2, y, c);
  }
}

/** Fill an inclusive box with a colour. */
export function fillBox(img: RgbImage, box: Box, c: Rgb): void {
  for (let y = Math.max(0, box[1]); y <= Math.min(img.height - 1, box[3]); y++)
    for (let x = Math.max(0, box[0]); x <= Math.min(img.width - 1, box[2]); x++)
      setPixel(img, x, y, c);
}
