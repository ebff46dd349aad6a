/** Contact sheets: a grid of samples, enlarged, with their ground-truth boxes and points drawn, for people to look at. */
import { createImage, setPixel, strokeBox, type Rgb, type RgbImage } from '../tasks/image.js';
import type { Box } from '../rewards/parse.js';
import type { Sample } from '../tasks/types.js';

const BOX_COLOR: Rgb = [0, 255, 0];
const POINT_COLOR: Rgb = [255, 0, 255];

/** Nearest-neighbour enlargement by an integer factor (keeps pixels crisp). */
export function enlarge(img: RgbImage, k: number): RgbImage {
  const out = createImage(img.width * k, img.height * k);
  for (let y = 0; y < out.height; y++)
    for (let x = 0; x < out.width; x++) {
      const s = (Math.floor(y / k) * img.width + Math.floor(x / k)) * 3;
      const d = (y * out.width + x) * 3;
      out.data[d] = img.data[s]!;
      out.data[d + 1] = img.data[s + 1]!;
      out.data[d + 2] = img.data[s + 2]!;
    }
  return out;
}

/** Grid of up to `count` samples, each enlarged by `zoom`, boxes outlined and points marked. */
export function contactSheet(
  samples: readonly Sample[],
  options: { columns?: number; zoom?: number; count?: number } = {},
): RgbImage {
  const shown = samples.slice(0, options.count ?? 16);
  const cols = Math.max(1, Math.min(options.columns ?? 4, shown.length));
  const rows = Math.max(1, Math.ceil(shown.length / cols));
  const zoom = options.zoom ?? 3;
  const cw = Math.max(1, ...shown.map((s) => s.image.width)) * zoom + 4;
  const ch = Math.max(1, ...shown.map((s) => s.image.height)) * zoom + 4;
  const sheet = createImage(cols * cw, rows * ch, [255, 255, 255]);
  shown.forEach((s, i) => {
    const ox = (i % cols) * cw + 2,
      oy = Math.floor(i / cols) * ch + 2;
    const big = enlarge(s.image, zoom);
    for (let y = 0; y < big.height; y++)
      for (let x = 0; x < big.width; x++) {
        const p = (y * big.width + x) * 3;
        setPixel(sheet, ox + x, oy + y, [big.data[p]!, big.data[p + 1]!, big.data[p + 2]!]);
      }
    for (const o of s.objects) {
      const b: Box = [
        ox + o.box[0] * zoom,
        oy + o.box[1] * zoom,
        ox + o.box[2] * zoom + zoom - 1,
        oy + o.box[3] * zoom + zoom - 1,
      ];
      strokeBox(sheet, b, BOX_COLOR);
      const px = ox + o.point[0] * zoom + Math.floor(zoom / 2),
        py = oy + o.point[1] * zoom + Math.floor(zoom / 2);
      for (let d = -1; d <= 1; d++) {
        setPixel(sheet, px + d, py, POINT_COLOR);
        setPixel(sheet, px, py + d, POINT_COLOR);
      }
    }
  });
  return sheet;
}
