/**
 * A built-in 3×5 pixel font (digits, capital letters, a little punctuation) for labels on GUI
 * buttons and charts. Each glyph is 5 rows of 3 cells, '#' = ink.
 */
import { setPixel, type Mask, type Rgb, type RgbImage } from './image.js';

const GLYPHS: Record<string, string> = {
  '0': '###|#.#|#.#|#.#|###',
  '1': '.#.|##.|.#.|.#.|###',
  '2': '###|..#|###|#..|###',
  '3': '###|..#|.##|..#|###',
  '4': '#.#|#.#|###|..#|..#',
  '5': '###|#..|###|..#|###',
  '6': '###|#..|###|#.#|###',
  '7': '###|..#|.#.|.#.|.#.',
  '8': '###|#.#|###|#.#|###',
  '9': '###|#.#|###|..#|###',
  A: '.#.|#.#|###|#.#|#.#',
  B: '##.|#.#|##.|#.#|##.',
  C: '.##|#..|#..|#..|.##',
  D: '##.|#.#|#.#|#.#|##.',
  E: '###|#..|##.|#..|###',
  F: '###|#..|##.|#..|#..',
  G: '.##|#..|#.#|#.#|.##',
  H: '#.#|#.#|###|#.#|#.#',
  I: '###|.#.|.#.|.#.|###',
  J: '..#|..#|..#|#.#|.#.',
  K: '#.#|#.#|##.|#.#|#.#',
  L: '#..|#..|#..|#..|###',
  M: '#.#|###|###|#.#|#.#',
  N: '##.|#.#|#.#|#.#|#.#',
  O: '.#.|#.#|#.#|#.#|.#.',
  P: '##.|#.#|##.|#..|#..',
  Q: '.#.|#.#|#.#|##.|.##',
  R: '##.|#.#|##.|#.#|#.#',
  S: '.##|#..|.#.|..#|##.',
  T: '###|.#.|.#.|.#.|.#.',
  U: '#.#|#.#|#.#|#.#|###',
  V: '#.#|#.#|#.#|#.#|.#.',
  W: '#.#|#.#|###|###|#.#',
  X: '#.#|#.#|.#.|#.#|#.#',
  Y: '#.#|#.#|.#.|.#.|.#.',
  Z: '###|..#|.#.|#..|###',
  ' ': '...|...|...|...|...',
  '-': '...|...|###|...|...',
  '+': '...|.#.|###|.#.|...',
  '?': '##.|..#|.#.|...|.#.',
  '.': '...|...|...|...|.#.',
  ':': '...|.#.|...|.#.|...',
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** Width in pixels of a text at a scale (one blank column between glyphs). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale;
}

/** True when every character has a glyph. */
export function canRender(text: string): boolean {
  return [...text.toUpperCase()].every((ch) => ch in GLYPHS);
}

/**
 * Draw text with its top-left at (x, y); lowercase is drawn as capitals, unknown characters as
 * blanks. Optionally records the inked pixels in `mask`.
 */
export function drawText(
  img: RgbImage,
  text: string,
  x: number,
  y: number,
  color: Rgb,
  scale = 1,
  mask?: Mask,
): void {
  let cx = x;
  for (const ch of text.toUpperCase()) {
    const rows = (GLYPHS[ch] ?? GLYPHS[' ']!).split('|');
    for (let r = 0; r < GLYPH_HEIGHT; r++)
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (rows[r]![c] !== '#') continue;
        for (let sy = 0; sy < scale; sy++)
          for (let sx = 0; sx < scale; sx++) {
            const px = cx + c * scale + sx,
              py = y + r * scale + sy;
            setPixel(img, px, py, color);
            if (mask && px >= 0 && py >= 0 && px < img.width && py < img.height)
              mask[py * img.width + px] = 1;
          }
      }
    cx += (GLYPH_WIDTH + 1) * scale;
  }
}
