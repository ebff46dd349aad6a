/**
 * General tasks for pre-training and the forgetting check (the paper's ChartQA/DocVQA role):
 * - caption: name the shapes left to right, e.g. `red circle, blue square`; reward kind `caption` (word F1).
 * - colorqa: the colour of the named shape, e.g. `red`; reward kind `text`.
 * - shapeqa: the shape of the named colour, e.g. `circle`; reward kind `text`.
 */
import { COLOR_NAMES } from '../palette.js';
import type { Rng } from '../rng.js';
import { composeScene, type ObjectSpec, type SceneObject } from '../scene.js';
import { SHAPES } from '../shapes.js';
import type { TaskOptions } from '../types.js';
import {
  COMBOS,
  describe,
  dimsOf,
  radius,
  readingOrder,
  retry,
  sceneTruths,
  type SampleBody,
} from './common.js';

function scene(rng: Rng, o: TaskOptions, specs: ObjectSpec[]) {
  return composeScene(rng, specs, dimsOf(o));
}

export function generateCaption(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const specs = rng
      .sample(COMBOS, rng.int(1, 2))
      .map((c) => ({ ...c, radius: radius(rng, d.unit, 5, 9) }));
    const s = scene(rng, o, specs);
    if (!s) return null;
    const text = readingOrder<SceneObject>(s.objects).map(describe).join(', ');
    return {
      image: s.image,
      prompt: 'caption',
      solution: text,
      answer: text,
      objects: sceneTruths(s.objects),
      think: `Left to right: ${text}.`,
    };
  });
}

/**
 * Attribute QA: name one attribute (colour or shape) of the object identified by the other.
 * Objects get distinct values of the identifying attribute, so the question has one answer.
 */
function generateAttributeQa(rng: Rng, o: TaskOptions, asked: 'color' | 'shape'): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const keys =
      asked === 'color'
        ? rng.sample(SHAPES, rng.int(1, 3))
        : rng.sample(COLOR_NAMES, rng.int(1, 3));
    const specs = keys.map((key) =>
      asked === 'color'
        ? {
            shape: key as (typeof SHAPES)[number],
            color: rng.pick(COLOR_NAMES),
            radius: radius(rng, d.unit, 5, 9),
          }
        : {
            color: key as (typeof COLOR_NAMES)[number],
            shape: rng.pick(SHAPES),
            radius: radius(rng, d.unit, 5, 9),
          },
    );
    const s = scene(rng, o, specs);
    if (!s) return null;
    const t = s.objects[0]!;
    const answer = asked === 'color' ? t.color : t.shape;
    return {
      image: s.image,
      prompt: asked === 'color' ? `color of ${t.shape}` : `shape of ${t.color}`,
      solution: answer,
      answer,
      objects: sceneTruths([t]),
      think:
        asked === 'color' ? `The ${t.shape} is ${t.color}.` : `The ${t.color} one is a ${t.shape}.`,
    };
  });
}

export function generateColorQa(rng: Rng, o: TaskOptions): SampleBody {
  return generateAttributeQa(rng, o, 'color');
}

export function generateShapeQa(rng: Rng, o: TaskOptions): SampleBody {
  return generateAttributeQa(rng, o, 'shape');
}
