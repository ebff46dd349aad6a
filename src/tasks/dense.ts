/**
 * Dense scene labels for pre-training the vision encoder: a scene of the task suite's kind
 * (1-6 objects of every colour and shape, at the sizes the tasks use, on any background) and,
 * for every cell of the model's token grid, what lies there: the object covering most of the
 * cell (colour, shape and its box) or background. One image thus supervises every token, where
 * a question-answer sample supervises one or two answer tokens.
 */
import { COLOR_NAMES } from './palette.js';
import type { Rng } from './rng.js';
import { composeScene, type ObjectSpec } from './scene.js';
import { SHAPES } from './shapes.js';
import type { RgbImage } from './image.js';
import { COMBOS, radius, retry } from './families/common.js';

/** Class count of each per-cell label (the last class of colour and shape is background). */
export const DENSE_COLOURS = COLOR_NAMES.length + 1;
export const DENSE_SHAPES = SHAPES.length + 1;
/**
 * Digit labels per cell: the tens and units digit of each of the six numbers an answer writes
 * for the covering object (box x1 y1 x2 y2, point x y, in pixels): 12 ten-way labels. They let
 * the encoder's features hold the very tokens a byte-level answer spells (images up to 100 px).
 */
export const DENSE_DIGIT_HEADS = 12;
/**
 * Coordinate labels per cell: the six numbers themselves (box x1 y1 x2 y2, point x y, in pixels
 * of the image, so `size`-way classes): the very tokens an answer writes with coordinate tokens
 * (model config `coordTokens`), one class per integer position.
 */
export const DENSE_COORD_HEADS = 6;

export interface DenseScene {
  image: RgbImage;
  /** per cell, raster order: colour index, or COLOR_NAMES.length for background */
  colour: Int32Array;
  /** per cell: shape index, or SHAPES.length for background */
  shape: Int32Array;
  /** per cell: the object's box [x1, y1, x2, y2] / image size (zeros for background) */
  box: Float32Array;
  /** per cell: 1 where an object covers it (the box is a target), else 0 */
  hasObject: Uint8Array;
  /** per cell x DENSE_DIGIT_HEADS: digits of the object's box and point (-1 for background) */
  digits: Int32Array;
  /** per cell x DENSE_COORD_HEADS: the object's box and point in pixels (-1 for background) */
  coords: Int32Array;
}

/**
 * A scene and its labels on a grid of `grid` x `grid` cells. A cell belongs to the object that
 * covers most of its pixels if that is at least `minCover` of the cell (default 1/8), else to the
 * background.
 */
export function generateDenseScene(
  rng: Rng,
  size: number,
  grid: number,
  minCover = 1 / 8,
): DenseScene {
  const unit = size / 64;
  const scene = retry(() => {
    const specs: ObjectSpec[] = rng
      .sample(COMBOS, rng.int(1, 6))
      .map((c) => ({ ...c, radius: radius(rng, unit, 3, 9) }));
    return composeScene(rng, specs, { width: size, height: size });
  });
  const cell = size / grid;
  const cells = grid * grid;
  const colour = new Int32Array(cells).fill(COLOR_NAMES.length);
  const shape = new Int32Array(cells).fill(SHAPES.length);
  const box = new Float32Array(cells * 4);
  const hasObject = new Uint8Array(cells);
  const digits = new Int32Array(cells * DENSE_DIGIT_HEADS).fill(-1);
  const coords = new Int32Array(cells * DENSE_COORD_HEADS).fill(-1);
  const cover = new Float64Array(cells);
  scene.objects.forEach((o) => {
    const counts = new Float64Array(cells);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        if (o.mask[y * size + x]) counts[Math.floor(y / cell) * grid + Math.floor(x / cell)]! += 1;
    for (let c = 0; c < cells; c++) {
      const frac = counts[c]! / (cell * cell);
      if (frac < minCover || frac <= cover[c]!) continue;
      cover[c] = frac;
      colour[c] = COLOR_NAMES.indexOf(o.color);
      shape[c] = SHAPES.indexOf(o.shape);
      hasObject[c] = 1;
      for (let k = 0; k < 4; k++) box[c * 4 + k] = o.box[k]! / size;
      [...o.box, ...o.point].forEach((v, k) => {
        digits[c * DENSE_DIGIT_HEADS + 2 * k] = Math.floor(v / 10) % 10;
        digits[c * DENSE_DIGIT_HEADS + 2 * k + 1] = v % 10;
        coords[c * DENSE_COORD_HEADS + k] = v;
      });
    }
  });
  return { image: scene.image, colour, shape, box, hasObject, digits, coords };
}
