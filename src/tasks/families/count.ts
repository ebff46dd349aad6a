/**
 * count (CountBench-like): how many objects of a named shape (any colour), among distractors of
 * other shapes. Answer: a plain integer, e.g. `3`; reward kind `count`. With the `countTrace:
 * points` option the trace points at each object before it counts them (see TaskOptions).
 */
import { COLOR_NAMES } from '../palette.js';
import type { Rng } from '../rng.js';
import { composeScene, type ObjectSpec } from '../scene.js';
import { SHAPES } from '../shapes.js';
import type { TaskOptions } from '../types.js';
import { at, dimsOf, plural, radius, retry, sceneTruths, type SampleBody } from './common.js';

/** Left to right, then top to bottom: the order the trace points in. */
function byReadingOrder<T extends { point: readonly number[] }>(objs: readonly T[]): T[] {
  return [...objs].sort((a, b) => a.point[0]! - b.point[0]! || a.point[1]! - b.point[1]!);
}

export function generateCount(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const shape = rng.pick(SHAPES);
    const zero = o.allowEmpty !== false && rng.chance(0.1);
    const n = zero ? 0 : rng.int(1, 6);
    const others = SHAPES.filter((s) => s !== shape);
    const specs: ObjectSpec[] = [
      ...Array.from({ length: n }, () => ({
        shape,
        color: rng.pick(COLOR_NAMES),
        radius: radius(rng, d.unit, 3, 5),
      })),
      ...Array.from({ length: rng.int(zero ? 1 : 0, 3) }, () => ({
        shape: rng.pick(others),
        color: rng.pick(COLOR_NAMES),
        radius: radius(rng, d.unit, 3, 5),
      })),
    ];
    const scene = composeScene(rng, specs, d);
    if (!scene) return null;
    const truths = sceneTruths(scene.objects.slice(0, n));
    const pointing =
      o.countTrace === 'points' ? `${byReadingOrder(truths).map(at).join(' ')}: ` : '';
    return {
      image: scene.image,
      prompt: `count ${plural(shape)}`,
      solution: String(n),
      answer: String(n),
      objects: truths,
      think:
        n === 0
          ? `I see no ${plural(shape)}.`
          : `${pointing}I see ${n} ${n === 1 ? shape : plural(shape)}.`,
    };
  });
}
