/** Scene composition: place shapes without overlap on a background and record exact masks, boxes and points. */
import type { Box, Point } from '../rewards/parse.js';
import { BACKGROUNDS, renderBackground, type BackgroundKind } from './background.js';
import { maskBox, maskPoint, paintMask, type Mask, type RgbImage } from './image.js';
import { COLORS, type ColorName } from './palette.js';
import type { Rng } from './rng.js';
import { rasterizeShape, type ShapeName } from './shapes.js';

export interface ObjectSpec {
  shape: ShapeName;
  color: ColorName;
  /** Radius in pixels. */
  radius: number;
}

export interface SceneObject extends ObjectSpec {
  cx: number;
  cy: number;
  mask: Mask;
  box: Box;
  point: Point;
}

export interface Scene {
  image: RgbImage;
  objects: SceneObject[];
}

export interface SceneOptions {
  width: number;
  height: number;
  /** Background kind; drawn at random when absent. */
  background?: BackgroundKind;
  /** Gap in pixels kept between objects' bounding squares (default 2). */
  gap?: number;
  /** Placement tries per object before giving up (default 60). */
  tries?: number;
}

/** Pixels per unit of the 64×64 design grid, so geometry scales with the image. */
export function unitOf(width: number, height: number): number {
  return Math.min(width, height) / 64;
}

/**
 * Choose non-overlapping centres for the specs (rejection sampling on bounding squares).
 * Returns null when some object cannot be placed; callers redraw.
 */
export function placeObjects(
  rng: Rng,
  specs: readonly ObjectSpec[],
  o: SceneOptions,
): { cx: number; cy: number }[] | null {
  const gap = o.gap ?? 2;
  const placed: { cx: number; cy: number; r: number }[] = [];
  for (const s of specs) {
    const r = s.radius;
    let ok = false;
    for (let t = 0; t < (o.tries ?? 60) && !ok; t++) {
      const lo = Math.ceil(r) + 1;
      const cx = rng.int(lo, o.width - 1 - lo);
      const cy = rng.int(lo, o.height - 1 - lo);
      if (cx < lo || cy < lo) break; // object larger than the canvas
      ok = placed.every(
        (p) => Math.abs(p.cx - cx) > p.r + r + gap || Math.abs(p.cy - cy) > p.r + r + gap,
      );
      if (ok) placed.push({ cx, cy, r });
    }
    if (!ok) return null;
  }
  return placed.map(({ cx, cy }) => ({ cx, cy }));
}

/** Rasterise specs at given centres onto an image; returns the scene objects in spec order. */
export function drawObjects(
  image: RgbImage,
  specs: readonly ObjectSpec[],
  centres: readonly { cx: number; cy: number }[],
): SceneObject[] {
  return specs.map((s, i) => {
    const { cx, cy } = centres[i]!;
    const mask = rasterizeShape(s.shape, cx, cy, s.radius, image.width, image.height);
    paintMask(image, mask, COLORS[s.color]);
    return {
      ...s,
      cx,
      cy,
      mask,
      box: maskBox(mask, image.width)!,
      point: maskPoint(mask, image.width)!,
    };
  });
}

/** Background + non-overlapping objects, or null when placement fails. */
export function composeScene(
  rng: Rng,
  specs: readonly ObjectSpec[],
  o: SceneOptions,
): Scene | null {
  const centres = placeObjects(rng, specs, o);
  if (!centres) return null;
  const image = renderBackground(rng, o.width, o.height, o.background ?? rng.pick(BACKGROUNDS));
  return { image, objects: drawObjects(image, specs, centres) };
}
