/**
 * refer (RefCOCO-like): find the object(s) named by a short expression.
 * nonobj (gRefCOCO-like): the same, but some expressions name an absent object; answer `[]`.
 * Answer: VisionReasoner list `[{"bbox_2d": [...], "point_2d": [...]}]`; reward kind `objects`.
 */
import { COLOR_NAMES } from '../palette.js';
import type { Rng } from '../rng.js';
import { composeScene, type ObjectSpec } from '../scene.js';
import { SHAPES } from '../shapes.js';
import type { TaskOptions } from '../types.js';
import {
  at,
  COMBOS,
  describe,
  dimsOf,
  objectsAnswer,
  plural,
  radius,
  retry,
  sceneTruths,
  type SampleBody,
} from './common.js';

/** One uniquely described target among 1–3 distractors with other colour/shape combinations. */
function single(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const combos = rng.sample(COMBOS, rng.int(2, 4));
    const specs: ObjectSpec[] = combos.map((c) => ({ ...c, radius: radius(rng, d.unit, 4, 8) }));
    const scene = composeScene(rng, specs, d);
    if (!scene) return null;
    const target = scene.objects[0]!;
    const truths = sceneTruths([target]);
    return {
      image: scene.image,
      prompt: describe(target),
      solution: objectsAnswer(truths),
      answer: objectsAnswer(truths),
      objects: truths,
      think: `The ${describe(target)} is at ${at(target)}.`,
    };
  });
}

/** Several targets sharing a shape ("all circles") or a colour ("all red"), plus distractors. */
function multi(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const byShape = rng.chance(0.5);
    const k = rng.int(2, 3);
    const shape = rng.pick(SHAPES);
    const color = rng.pick(COLOR_NAMES);
    const targets = byShape
      ? rng.sample(COLOR_NAMES, k).map((c) => ({ color: c, shape }))
      : rng.sample(SHAPES, k).map((s) => ({ color, shape: s }));
    const others = COMBOS.filter((c) => (byShape ? c.shape !== shape : c.color !== color));
    const specs: ObjectSpec[] = [...targets, ...rng.sample(others, rng.int(1, 2))].map((c) => ({
      ...c,
      radius: radius(rng, d.unit, 4, 7),
    }));
    const scene = composeScene(rng, specs, d);
    if (!scene) return null;
    const found = scene.objects.slice(0, k);
    const truths = sceneTruths(found);
    const what = byShape ? plural(shape) : color;
    return {
      image: scene.image,
      prompt: `all ${what}`,
      solution: objectsAnswer(truths),
      answer: objectsAnswer(truths),
      objects: truths,
      think: `${k} ${byShape ? plural(shape) : `${color} shapes`}: ${truths.map(at).join(' ')}.`,
    };
  });
}

export function generateRefer(rng: Rng, o: TaskOptions): SampleBody {
  return rng.chance(0.3) ? multi(rng, o) : single(rng, o);
}

/** A query for an absent colour/shape combination, with distractors sharing its colour or shape. */
function absent(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const query = rng.pick(COMBOS);
    const near = COMBOS.filter((c) => (c.color === query.color) !== (c.shape === query.shape));
    const far = COMBOS.filter((c) => c.color !== query.color && c.shape !== query.shape);
    const combos = [...rng.sample(near, rng.int(1, 2)), ...rng.sample(far, rng.int(0, 2))];
    const specs: ObjectSpec[] = combos.map((c) => ({ ...c, radius: radius(rng, d.unit, 4, 8) }));
    const scene = composeScene(rng, specs, d);
    if (!scene) return null;
    return {
      image: scene.image,
      prompt: describe(query),
      solution: '[]',
      answer: '[]',
      objects: [],
      think: `There is no ${describe(query)}.`,
    };
  });
}

export function generateNonObj(rng: Rng, o: TaskOptions): SampleBody {
  const rate = o.allowEmpty === false ? 0 : (o.emptyRate ?? 0.5);
  return rng.chance(rate) ? absent(rng, o) : single(rng, o);
}
