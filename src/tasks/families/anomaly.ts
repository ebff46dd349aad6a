/**
 * anomaly (RealIAD-like): a grid of identical items; at most one carries a defect (a small spot of
 * another colour). Find the defect, or answer `[]` when every item is sound.
 * Answer: VisionReasoner list (the defect's box and a point on it) or `[]`; reward kind `objects`.
 */
import { renderBackground } from '../background.js';
import { maskBox, maskPoint, paintMask, type Rgb } from '../image.js';
import { COLOR_NAMES, COLORS } from '../palette.js';
import type { Rng } from '../rng.js';
import { drawObjects, type ObjectSpec } from '../scene.js';
import type { TaskOptions } from '../types.js';
import { at, dimsOf, objectsAnswer, type SampleBody } from './common.js';

/** Shapes solid enough near their centre to carry a spot. */
const ITEM_SHAPES = ['circle', 'square', 'diamond'] as const;

export function generateAnomaly(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  const rows = rng.int(2, 3);
  const cols = rng.int(2, 3);
  const shape = rng.pick(ITEM_SHAPES);
  const [itemColor, spotColor] = rng.sample(COLOR_NAMES, 2);
  const cw = d.width / cols;
  const ch = d.height / rows;
  const r = Math.max(3, Math.floor(Math.min(cw, ch) * 0.3));
  const specs: ObjectSpec[] = [];
  const centres: { cx: number; cy: number }[] = [];
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      specs.push({ shape, color: itemColor!, radius: r });
      centres.push({ cx: Math.round(cw * (j + 0.5)), cy: Math.round(ch * (i + 0.5)) });
    }
  const image = renderBackground(rng, d.width, d.height, 'solid');
  const items = drawObjects(image, specs, centres);
  const allowDefects = o.allowDefects !== false;
  const emptyRate = o.allowEmpty === false ? 0 : (o.emptyRate ?? 0.5);
  if (!allowDefects || rng.chance(emptyRate)) {
    return {
      image,
      prompt: 'find defect',
      solution: '[]',
      answer: '[]',
      objects: [],
      think: `All ${rows * cols} ${shape}s look the same. No defect.`,
    };
  }
  const k = rng.int(0, items.length - 1);
  const item = items[k]!;
  // A spot of 2–3 units square, well inside the item (within half its radius of the centre).
  const s = Math.max(2, Math.round(rng.float(2, 3) * d.unit));
  const reach = Math.max(0, Math.floor(r / 2) - s);
  const x0 = item.cx - Math.floor(s / 2) + rng.int(-reach, reach);
  const y0 = item.cy - Math.floor(s / 2) + rng.int(-reach, reach);
  const mask = new Uint8Array(d.width * d.height);
  for (let y = y0; y < y0 + s; y++)
    for (let x = x0; x < x0 + s; x++) if (item.mask[y * d.width + x]) mask[y * d.width + x] = 1;
  const spot: Rgb = rng.chance(0.3) ? [15, 15, 15] : COLORS[spotColor!];
  paintMask(image, mask, spot);
  const truth = { box: maskBox(mask, d.width)!, point: maskPoint(mask, d.width)!, mask };
  return {
    image,
    prompt: 'find defect',
    solution: objectsAnswer([truth]),
    answer: objectsAnswer([truth]),
    objects: [truth],
    think: `Item ${k + 1} of ${rows * cols} has a spot at ${at(truth)}.`,
  };
}
