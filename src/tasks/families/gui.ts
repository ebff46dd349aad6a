/**
 * gui (OmniACT-like): click the control with a given label among 2–4 labelled buttons.
 * Solution: `[{"bbox_2d": <button>, "point_2d": <centre>}]` (the box is what a click must hit);
 * answer written by a perfect policy: `[{"point_2d": [x, y]}]`. Reward kind `click`.
 */
import { formatAnswerObjects, type Box, type Point } from '../../rewards/parse.js';
import { renderBackground } from '../background.js';
import { boxMask, fillBox, strokeBox, type Rgb } from '../image.js';
import { drawText, GLYPH_HEIGHT, textWidth } from '../font.js';
import type { Rng } from '../rng.js';
import type { TaskOptions } from '../types.js';
import { dimsOf, retry, type SampleBody } from './common.js';

export const GUI_LABELS = [
  'OK',
  'NO',
  'GO',
  'SAVE',
  'EXIT',
  'MENU',
  'HELP',
  'BACK',
  'NEXT',
  'EDIT',
  'FILE',
  'VIEW',
  'UNDO',
  'COPY',
];

const FACES: readonly Rgb[] = [
  [205, 205, 205],
  [170, 200, 235],
  [235, 220, 160],
  [190, 230, 190],
];
const INK: Rgb = [20, 20, 30];

function overlaps(a: Box, b: Box, gap: number): boolean {
  return !(a[2] + gap < b[0] || b[2] + gap < a[0] || a[3] + gap < b[1] || b[3] + gap < a[1]);
}

export function generateGui(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  const scale = Math.max(1, Math.floor(d.unit));
  return retry(() => {
    const labels = rng.sample(GUI_LABELS, rng.int(2, 4));
    const boxes: Box[] = [];
    for (const label of labels) {
      const w = textWidth(label, scale) + 4 * scale;
      const h = GLYPH_HEIGHT * scale + 4 * scale;
      let placed: Box | null = null;
      for (let t = 0; t < 60 && !placed; t++) {
        const x = rng.int(1, d.width - w - 1);
        const y = rng.int(1, d.height - h - 1);
        const b: Box = [x, y, x + w - 1, y + h - 1];
        if (boxes.every((q) => !overlaps(q, b, 2))) placed = b;
      }
      if (!placed) return null;
      boxes.push(placed);
    }
    const image = renderBackground(
      rng,
      d.width,
      d.height,
      rng.pick(['solid', 'gradient'] as const),
    );
    labels.forEach((label, i) => {
      const b = boxes[i]!;
      fillBox(image, b, rng.pick(FACES));
      strokeBox(image, b, INK);
      drawText(image, label, b[0] + 2 * scale, b[1] + 2 * scale, INK, scale);
    });
    const box = boxes[0]!;
    const point: Point = [Math.round((box[0] + box[2]) / 2), Math.round((box[1] + box[3]) / 2)];
    return {
      image,
      prompt: `click ${labels[0]!}`,
      solution: formatAnswerObjects([{ bbox: box, point }]),
      answer: formatAnswerObjects([{ bbox: null, point }]),
      objects: [{ box, point, mask: boxMask(box, d.width, d.height) }],
      think: `The ${labels[0]!} button spans ${box[0]}-${box[2]} across; click its centre.`,
    };
  });
}
