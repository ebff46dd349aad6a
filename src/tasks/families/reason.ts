/**
 * reason (ReasonSeg-like): the target is named by a property to infer — a superlative of size or
 * position, or the odd one out by colour or shape. Answer: VisionReasoner list with one object;
 * reward kind `objects`.
 */
import { COLOR_NAMES } from '../palette.js';
import type { Rng } from '../rng.js';
import { composeScene, type ObjectSpec, type SceneObject } from '../scene.js';
import { SHAPES } from '../shapes.js';
import type { TaskOptions } from '../types.js';
import {
  at,
  COMBOS,
  describe,
  dimsOf,
  objectsAnswer,
  retry,
  sceneTruths,
  type SampleBody,
} from './common.js';

type Query =
  | 'largest'
  | 'smallest'
  | 'leftmost'
  | 'rightmost'
  | 'topmost'
  | 'lowest'
  | 'odd color'
  | 'odd shape';
const QUERIES: readonly Query[] = [
  'largest',
  'smallest',
  'leftmost',
  'rightmost',
  'topmost',
  'lowest',
  'odd color',
  'odd shape',
];

/** Margin (pixels) by which the winner must beat the runner-up so the answer is unambiguous. */
const MARGIN = 3;

function winner(objs: readonly SceneObject[], key: (o: SceneObject) => number): SceneObject | null {
  const sorted = [...objs].sort((a, b) => key(b) - key(a));
  return key(sorted[0]!) - key(sorted[1]!) >= MARGIN ? sorted[0]! : null;
}

function specsFor(rng: Rng, q: Query, unit: number): ObjectSpec[] {
  const n = rng.int(3, 4);
  const r = () => Math.max(2, Math.round(rng.float(4, 7) * unit));
  if (q === 'odd color') {
    const [common, odd] = rng.sample(COLOR_NAMES, 2);
    return rng
      .sample(SHAPES, n)
      .map((shape, i) => ({ shape, color: i === 0 ? odd! : common!, radius: r() }));
  }
  if (q === 'odd shape') {
    const [common, odd] = rng.sample(SHAPES, 2);
    return rng
      .sample(COLOR_NAMES, n)
      .map((color, i) => ({ shape: i === 0 ? odd! : common!, color, radius: r() }));
  }
  const combos = rng.sample(COMBOS, n);
  if (q === 'largest' || q === 'smallest') {
    // Distinct sizes 3, 5.5, 8, 10.5 units apart by more than the margin.
    const sizes = rng.shuffle([3, 5.5, 8, 10.5].slice(0, n));
    return combos.map((c, i) => ({ ...c, radius: Math.max(2, Math.round(sizes[i]! * unit)) }));
  }
  return combos.map((c) => ({ ...c, radius: r() }));
}

function pickTarget(q: Query, objs: readonly SceneObject[]): SceneObject | null {
  switch (q) {
    case 'largest':
      return winner(objs, (o) => o.radius);
    case 'smallest':
      return winner(objs, (o) => -o.radius);
    case 'leftmost':
      return winner(objs, (o) => -o.box[0]);
    case 'rightmost':
      return winner(objs, (o) => o.box[2]);
    case 'topmost':
      return winner(objs, (o) => -o.box[1]);
    case 'lowest':
      return winner(objs, (o) => o.box[3]);
    case 'odd color':
    case 'odd shape':
      return objs[0]!;
  }
}

function explain(q: Query, t: SceneObject): string {
  if (q === 'odd color') return `Only the ${t.shape} is ${t.color}; it is at ${at(t)}.`;
  if (q === 'odd shape') return `Only one is a ${t.shape}: the ${describe(t)} at ${at(t)}.`;
  return `The ${q} one is the ${describe(t)} at ${at(t)}.`;
}

export function generateReason(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  // The query is drawn once, outside the retry, so hard-to-place queries are not under-sampled.
  const q = rng.pick(QUERIES);
  return retry(() => {
    const scene = composeScene(rng, specsFor(rng, q, d.unit), d);
    if (!scene) return null;
    const target = pickTarget(q, scene.objects);
    if (!target) return null;
    const truths = sceneTruths([target]);
    return {
      image: scene.image,
      prompt: q.startsWith('odd') ? `${q} out` : `${q} one`,
      solution: objectsAnswer(truths),
      answer: objectsAnswer(truths),
      objects: truths,
      think: explain(q, target),
    };
  });
}
