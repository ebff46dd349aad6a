/**
 * Run-length encoding of binary masks for the training layout's `objects` column: alternating run
 * lengths in row-major order, starting with a run of zeros (possibly of length 0).
 */
import type { Mask } from '../tasks/image.js';

export function encodeMaskRle(mask: Mask): number[] {
  const runs: number[] = [];
  let cur = 0,
    len = 0;
  for (let p = 0; p < mask.length; p++) {
    const v = mask[p] ? 1 : 0;
    if (v === cur) len++;
    else {
      runs.push(len);
      cur = v;
      len = 1;
    }
  }
  runs.push(len);
  return runs;
}

/** Decode runs into a mask of `size` pixels; throws when the runs do not add up to the size. */
export function decodeMaskRle(runs: readonly number[], size: number): Mask {
  const mask = new Uint8Array(size);
  let p = 0,
    v = 0;
  for (const n of runs) {
    if (!Number.isInteger(n) || n < 0 || p + n > size)
      throw new Error('mask runs exceed the image size');
    if (v) mask.fill(1, p, p + n);
    p += n;
    v ^= 1;
  }
  if (p !== size) throw new Error(`mask runs cover ${p} of ${size} pixels`);
  return mask;
}
