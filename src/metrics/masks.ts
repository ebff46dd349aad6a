/** Mask overlap arithmetic. */
import type { Mask } from '../tasks/image.js';

export interface Overlap {
  intersection: number;
  union: number;
}

/** Pixel intersection and union of two equal-sized binary masks (null = empty). */
export function maskOverlap(a: Mask | null, b: Mask | null): Overlap {
  let inter = 0,
    union = 0;
  const n = Math.max(a?.length ?? 0, b?.length ?? 0);
  for (let p = 0; p < n; p++) {
    const x = a ? (a[p] ?? 0) : 0,
      y = b ? (b[p] ?? 0) : 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return { intersection: inter, union };
}

/** IoU of two masks; 1 when both are empty (a correctly empty answer). */
export function maskIoU(a: Mask | null, b: Mask | null): number {
  const o = maskOverlap(a, b);
  return o.union === 0 ? 1 : o.intersection / o.union;
}

/** Pixelwise union of masks of one size (empty mask of `length` pixels when the list is empty). */
export function unionMasks(masks: readonly Mask[], length: number): Mask {
  const out = new Uint8Array(length);
  for (const m of masks) for (let p = 0; p < length; p++) if (m[p]) out[p] = 1;
  return out;
}
