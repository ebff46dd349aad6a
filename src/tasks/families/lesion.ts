/**
 * lesion (ISIC-like): one irregular dark blob on mottled skin-like texture; segment it.
 * Answer: VisionReasoner list with one object; reward kind `objects`.
 */
import { renderSkin } from '../background.js';
import { maskBox, maskPoint } from '../image.js';
import type { Rng } from '../rng.js';
import { rasterizeBlob } from '../shapes.js';
import type { TaskOptions } from '../types.js';
import { at, dimsOf, objectsAnswer, retry, type SampleBody } from './common.js';

export function generateLesion(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  return retry(() => {
    const image = renderSkin(rng, d.width, d.height);
    const r = rng.float(7, 13) * d.unit;
    const harmonics = Array.from({ length: rng.int(2, 3) }, () => ({
      k: rng.int(2, 5),
      a: rng.float(0.05, 0.18),
      phase: rng.float(0, 2 * Math.PI),
    }));
    const reach = Math.ceil(r * 1.6) + 1;
    if (2 * reach >= Math.min(d.width, d.height)) return null;
    const cx = rng.int(reach, d.width - 1 - reach);
    const cy = rng.int(reach, d.height - 1 - reach);
    const mask = rasterizeBlob(cx, cy, r, harmonics, d.width, d.height);
    const box = maskBox(mask, d.width);
    if (!box) return null;
    // Dark brown with mild mottling: textured, but far from the skin tone so the boundary is real.
    const base = [rng.int(90, 130), rng.int(45, 70), rng.int(25, 45)];
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      const n = rng.int(-8, 8);
      image.data[p * 3] = base[0]! + n;
      image.data[p * 3 + 1] = base[1]! + n;
      image.data[p * 3 + 2] = base[2]! + n;
    }
    const truth = { box, point: maskPoint(mask, d.width)!, mask };
    const size = (box[2] - box[0] + 1) * (box[3] - box[1] + 1);
    return {
      image,
      prompt: 'lesion',
      solution: objectsAnswer([truth]),
      answer: objectsAnswer([truth]),
      objects: [truth],
      think: `A dark irregular patch, about ${Math.round(Math.sqrt(size))} px across, at ${at(truth)}.`,
    };
  });
}
