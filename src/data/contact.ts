/**
 * Contact sheets: a grid of samples, enlarged, with their ground-truth boxes and points drawn
 * and a caption strip under each (the prompt, then the answer), for people to look at.
 */
import { GLYPH_HEIGHT, GLYPH_WIDTH, canRender, drawText } from '../tasks/font.js';
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

const CAPTION_COLOR: Rgb = [20, 20, 20];
const ANSWER_COLOR: Rgb = [0, 110, 0];
/** Caption lines per tile: the prompt (wrapped) and the answer. */
export const CAPTION_LINES = 3;
const CAPTION_SCALE = 2;
const LINE_HEIGHT = (GLYPH_HEIGHT + 2) * CAPTION_SCALE;

/**
 * The caption of a sample in the built-in font's alphabet: the prompt, and the answer — a
 * number or word as it is, an object list as its count (`NONE` for the empty list, where a
 * box-less tile would otherwise look like a mistake).
 */
export function captionLines(s: Sample, charsPerLine: number): { text: string; answer: boolean }[] {
  const clean = (t: string) =>
    [...t.toUpperCase()]
      .map((c) => (canRender(c) ? c : ' '))
      .join('')
      .replace(/ +/g, ' ')
      .trim();
  const answer = s.answer.trim().startsWith('[')
    ? s.objects.length === 0
      ? 'NONE'
      : `${s.objects.length} OBJECT${s.objects.length > 1 ? 'S' : ''}`
    : clean(s.answer);
  const words = clean(s.prompt).split(' ');
  const lines: string[] = [];
  for (const w of words) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + w.length <= charsPerLine)
      lines[lines.length - 1] = `${last} ${w}`;
    else lines.push(w.slice(0, charsPerLine));
  }
  const prompt = lines.slice(0, CAPTION_LINES - 1);
  if (lines.length > prompt.length)
    prompt[prompt.length - 1] = `${prompt.at(-1)!.slice(0, charsPerLine - 2)}..`;
  return [
    ...prompt.map((text) => ({ text, answer: false })),
    { text: `: ${answer}`.slice(0, charsPerLine), answer: true },
  ];
}

/**
 * Grid of up to `count` samples, each enlarged by `zoom`, boxes outlined and points marked,
 * each with its caption strip (unless `captions: false`).
 */
export function contactSheet(
  samples: readonly Sample[],
  options: { columns?: number; zoom?: number; count?: number; captions?: boolean } = {},
): RgbImage {
  const shown = samples.slice(0, options.count ?? 16);
  const cols = Math.max(1, Math.min(options.columns ?? 4, shown.length));
  const rows = Math.max(1, Math.ceil(shown.length / cols));
  const zoom = options.zoom ?? 3;
  const captions = options.captions ?? true;
  const imageHeight = Math.max(1, ...shown.map((s) => s.image.height)) * zoom;
  const cw = Math.max(1, ...shown.map((s) => s.image.width)) * zoom + 4;
  const ch = imageHeight + 4 + (captions ? CAPTION_LINES * LINE_HEIGHT + 4 : 0);
  const charsPerLine = Math.floor((cw - 4) / ((GLYPH_WIDTH + 1) * CAPTION_SCALE));
  const sheet = createImage(cols * cw, rows * ch, [255, 255, 255]);
  shown.forEach((s, i) => {
    const ox = (i % cols) * cw + 2,
      oy = Math.floor(i / cols) * ch + 2;
    if (captions)
      captionLines(s, charsPerLine).forEach((l, k) =>
        drawText(
          sheet,
          l.text,
          ox,
          oy + imageHeight + 4 + k * LINE_HEIGHT,
          l.answer ? ANSWER_COLOR : CAPTION_COLOR,
          CAPTION_SCALE,
        ),
      );
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
