/** Helpers shared by the task generators. */
import { formatAnswerObjects } from '../../rewards/parse.js';
import { COLOR_NAMES, type ColorName } from '../palette.js';
import type { Rng } from '../rng.js';
import type { SceneObject } from '../scene.js';
import { SHAPES, type ShapeName } from '../shapes.js';
import type { GroundTruthObject, Sample, TaskOptions } from '../types.js';

/** What a generator returns; the registry adds id and task. */
export type SampleBody = Omit<Sample, 'id' | 'task'>;

export interface Dims {
  width: number;
  height: number;
  /** Pixels per unit of the 64×64 design grid. */
  unit: number;
}

export function dimsOf(o: TaskOptions): Dims {
  const ok = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 16 && v <= 4096;
  const width = ok(o.width) ? o.width! : 64;
  const height = ok(o.height) ? o.height! : 64;
  return { width, height, unit: Math.min(width, height) / 64 };
}

export function truthOf(o: {
  box: GroundTruthObject['box'];
  point: GroundTruthObject['point'];
  mask: GroundTruthObject['mask'];
}): GroundTruthObject {
  return { box: o.box, point: o.point, mask: o.mask };
}

/** Objects sorted left to right (then top to bottom) so labels are written in one stable order. */
export function readingOrder<T extends { box: readonly number[] }>(objs: readonly T[]): T[] {
  return [...objs].sort((a, b) => a.box[0]! - b.box[0]! || a.box[1]! - b.box[1]!);
}

/** The VisionReasoner answer listing these objects' boxes and points, in policy style. */
export function objectsAnswer(objs: readonly GroundTruthObject[]): string {
  return formatAnswerObjects(objs.map((o) => ({ bbox: o.box, point: o.point })));
}

export function describe(o: { color: ColorName; shape: ShapeName }): string {
  return `${o.color} ${o.shape}`;
}

export function plural(shape: ShapeName): string {
  return shape === 'cross' ? 'crosses' : `${shape}s`;
}

export function at(o: { point: readonly number[] }): string {
  return `(${o.point[0]},${o.point[1]})`;
}

/** All colour/shape combinations. */
export const COMBOS: readonly { color: ColorName; shape: ShapeName }[] = COLOR_NAMES.flatMap(
  (color) => SHAPES.map((shape) => ({ color, shape })),
);

/** Radius in pixels for a size drawn in design units. */
export function radius(rng: Rng, unit: number, lo: number, hi: number): number {
  return Math.max(2, Math.round(rng.float(lo, hi) * unit));
}

/**
 * Run a drawing attempt until it succeeds. Attempts fail only on unlucky placement, so a few
 * tries suffice; the bound keeps generation finite on absurd options.
 */
export function retry<T>(attempt: () => T | null, tries = 200): T {
  for (let i = 0; i < tries; i++) {
    const r = attempt();
    if (r !== null) return r;
  }
  throw new Error('task generator could not place its objects; is the image too small?');
}

export function sceneTruths(objs: readonly SceneObject[]): GroundTruthObject[] {
  return readingOrder(objs).map(truthOf);
}
