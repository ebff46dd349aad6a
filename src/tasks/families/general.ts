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

export function generateColorQa(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const shapes = rng.sample(SHAPES, rng.int(1, 3));
    const specs = shapes.map((shape) => ({
      shape,
      color: rng.pick(COLOR_NAMES),
      radius: radius(rng, d.unit, 5, 9),
    }));
    const s = scene(rng, o, specs);
    if (!s) return null;
    const t = s.objects[0]!;
    return {
      image: s.image,
      prompt: `color of ${t.shape}`,
      solution: t.color,
      answer: t.color,
      objects: sceneTruths([t]),
      think: `The ${t.shape} is ${t.color}.`,
    };
  });
}

export function generateShapeQa(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const colors = rng.sample(COLOR_NAMES, rng.int(1, 3));
    const specs = colors.map((color) => ({
      color,
      shape: rng.pick(SHAPES),
      radius: radius(rng, d.unit, 5, 9),
    }));
    const s = scene(rng, o, specs);
    if (!s) return null;
    const t = s.objects[0]!;
    return {
      image: s.image,
      prompt: `shape of ${t.color}`,
      solution: t.shape,
      answer: t.shape,
      objects: sceneTruths([t]),
      think: `The ${t.color} one is a ${t.shape}.`,
    };
  });
}
