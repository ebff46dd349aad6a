/**
 * Resizing a whole sample — image, boxes, points and masks together — so real datasets (e.g.
 * VisionReasoner's 840×840) can be brought to the model's resolution (64×64 by default).
 */
import { formatAnswerObjects, type Box, type Point } from '../rewards/parse.js';
import { maskBox, maskPoint, type Mask } from '../tasks/image.js';
import { TASKS } from '../tasks/registry.js';
import type { GroundTruthObject, Sample } from '../tasks/types.js';
import { resizeImage } from './codec.js';

/** Nearest-neighbour mask resize (sampling each target pixel's centre). */
export function resizeMask(mask: Mask, w0: number, h0: number, w1: number, h1: number): Mask {
  const out = new Uint8Array(w1 * h1);
  for (let y = 0; y < h1; y++) {
    const sy = Math.min(h0 - 1, Math.floor(((y + 0.5) * h0) / h1));
    for (let x = 0; x < w1; x++) {
      const sx = Math.min(w0 - 1, Math.floor(((x + 0.5) * w0) / w1));
      out[y * w1 + x] = mask[sy * w0 + sx]!;
    }
  }
  return out;
}

/** Scale an inclusive pixel box: pixel x spans [x, x+1), so x2 maps through its right edge. */
export function scaleBox(b: Box, sx: number, sy: number): Box {
  const x1 = Math.floor(b[0] * sx),
    y1 = Math.floor(b[1] * sy);
  return [
    x1,
    y1,
    Math.max(x1, Math.ceil((b[2] + 1) * sx) - 1),
    Math.max(y1, Math.ceil((b[3] + 1) * sy) - 1),
  ];
}

export function scalePoint(p: Point, sx: number, sy: number): Point {
  return [Math.floor((p[0] + 0.5) * sx), Math.floor((p[1] + 0.5) * sy)];
}

/**
 * The sample at width×height. Masks are resampled; each box becomes its resized mask's box (the
 * scaled box when the mask vanishes) and each point stays on its mask. Grounding solutions and
 * answers are re-rendered from the resized objects; count/number/text answers are unchanged.
 */
export async function resizeSample(sample: Sample, width: number, height: number): Promise<Sample> {
  const { width: w0, height: h0 } = sample.image;
  if (w0 === width && h0 === height) return sample;
  const sx = width / w0,
    sy = height / h0;
  const image = await resizeImage(sample.image, width, height);
  const objects: GroundTruthObject[] = sample.objects.map((o) => {
    const mask = resizeMask(o.mask, w0, h0, width, height);
    const box = maskBox(mask, width) ?? scaleBox(o.box, sx, sy);
    let point = scalePoint(o.point, sx, sy);
    if (!mask[point[1] * width + point[0]]) point = maskPoint(mask, width) ?? point;
    return { box, point, mask };
  });
  const kind = TASKS[sample.task].answerKind;
  if (kind === 'objects') {
    const text = formatAnswerObjects(objects.map((o) => ({ bbox: o.box, point: o.point })));
    return { ...sample, image, objects, solution: text, answer: text };
  }
  if (kind === 'click') {
    return {
      ...sample,
      image,
      objects,
      solution: formatAnswerObjects(objects.map((o) => ({ bbox: o.box, point: o.point }))),
      answer: formatAnswerObjects(objects.map((o) => ({ bbox: null, point: o.point }))),
    };
  }
  return { ...sample, image, objects };
}
