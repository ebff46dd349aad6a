/**
 * Shape rasterisers: each turns (centre, radius) into an exact binary mask by testing pixel
 * centres against the shape's geometry, so the ground-truth mask is the painted pixels exactly.
 */
import type { Mask } from './image.js';

export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross', 'ring'] as const;
export type ShapeName = (typeof SHAPES)[number];

/** Is the offset (dx, dy) from the centre inside a shape of radius r? */
function inside(shape: ShapeName, dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case 'circle':
      // r² + 0.6r rather than r² avoids single-pixel nubs at the four extremes.
      return dx * dx + dy * dy <= r * r + 0.6 * r;
    case 'square':
      return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
    case 'diamond':
      return Math.abs(dx) + Math.abs(dy) <= r;
    case 'triangle': {
      // Upward isosceles triangle: apex at top, base at the bottom of the square of radius r.
      if (dy < -r || dy > r * 0.8) return false;
      const half = ((dy + r) / (1.8 * r)) * r;
      return Math.abs(dx) <= half;
    }
    case 'cross': {
      const arm = Math.max(1, r * 0.35);
      return (
        (Math.abs(dx) <= arm && Math.abs(dy) <= r) || (Math.abs(dy) <= arm && Math.abs(dx) <= r)
      );
    }
    case 'ring': {
      const d = dx * dx + dy * dy;
      const inner = r * 0.5;
      return d <= r * r + 0.6 * r && d >= inner * inner;
    }
  }
}

/** Mask of a shape centred at (cx, cy) with radius r on a width×height canvas. */
export function rasterizeShape(
  shape: ShapeName,
  cx: number,
  cy: number,
  r: number,
  width: number,
  height: number,
): Mask {
  const m = new Uint8Array(width * height);
  const x0 = Math.max(0, Math.floor(cx - r - 1)),
    x1 = Math.min(width - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1)),
    y1 = Math.min(height - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++) if (inside(shape, x - cx, y - cy, r)) m[y * width + x] = 1;
  return m;
}

/**
 * An irregular blob (for lesions): radius varies with angle as r·(1 + Σ aₖ sin(kθ + φₖ)),
 * with the harmonics given by the caller's random draws.
 */
export function rasterizeBlob(
  cx: number,
  cy: number,
  r: number,
  harmonics: readonly { k: number; a: number; phase: number }[],
  width: number,
  height: number,
): Mask {
  const m = new Uint8Array(width * height);
  const reach = r * (1 + harmonics.reduce((s, h) => s + Math.abs(h.a), 0)) + 1;
  const x0 = Math.max(0, Math.floor(cx - reach)),
    x1 = Math.min(width - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach)),
    y1 = Math.min(height - 1, Math.ceil(cy + reach));
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx,
        dy = y - cy;
      const th = Math.atan2(dy, dx);
      let rr = r;
      for (const h of harmonics) rr += r * h.a * Math.sin(h.k * th + h.phase);
      if (dx * dx + dy * dy <= rr * rr) m[y * width + x] = 1;
    }
  return m;
}
