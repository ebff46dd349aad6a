/**
 * chart (MathVista-like): a bar chart of 3–4 bars labelled A–D with values 1–9 on a unit grid;
 * read values and compute (a sum, a difference, the max or min, or one value).
 * Answer: a plain number, e.g. `8`; reward kind `number`.
 */
import { createImage, fillBox, setPixel, type Rgb } from '../image.js';
import { drawText } from '../font.js';
import { COLORS, COLOR_NAMES } from '../palette.js';
import type { Rng } from '../rng.js';
import type { TaskOptions } from '../types.js';
import { dimsOf, type SampleBody } from './common.js';

const LETTERS = ['A', 'B', 'C', 'D'];

export function generateChart(rng: Rng, o: TaskOptions): SampleBody {
  const d = dimsOf(o);
  const scale = Math.max(1, Math.floor(d.unit));
  const k = rng.int(3, 4);
  const values = Array.from({ length: k }, () => rng.int(1, 9));
  const bg: Rgb = [235, 235, 230];
  const image = createImage(d.width, d.height, bg);
  const base = d.height - 1 - 7 * scale; // bars stand on this row; letters below
  const step = Math.max(1, Math.floor((base - 3) / 10)); // pixels per value unit
  // Grid lines at every unit so values can be read off.
  for (let v = 1; v <= 10; v++)
    for (let x = 0; x < d.width; x++) setPixel(image, x, base - v * step, [205, 205, 205]);
  for (let x = 0; x < d.width; x++) setPixel(image, x, base, [60, 60, 60]);
  const slot = Math.floor(d.width / k);
  const barW = Math.max(3, Math.floor(slot * 0.55));
  const color = COLORS[rng.pick(COLOR_NAMES.filter((c) => c !== 'white' && c !== 'yellow'))];
  values.forEach((v, i) => {
    const x1 = i * slot + Math.floor((slot - barW) / 2);
    fillBox(image, [x1, base - v * step, x1 + barW - 1, base - 1], color);
    drawText(
      image,
      LETTERS[i]!,
      x1 + Math.floor(barW / 2) - scale,
      base + 2 * scale,
      [30, 30, 30],
      scale,
    );
  });
  const named = LETTERS.slice(0, k);
  const readout = named.map((l, i) => `${l}=${values[i]}`).join(', ');
  const kind = rng.int(0, 4);
  const [a, b] = rng.sample([...named.keys()], 2) as [number, number];
  let prompt: string, result: number, how: string;
  switch (kind) {
    case 0:
      prompt = `${named[a]}+${named[b]}`;
      result = values[a]! + values[b]!;
      how = `${values[a]}+${values[b]}=${result}`;
      break;
    case 1:
      prompt = `${named[a]}-${named[b]}`;
      result = values[a]! - values[b]!;
      how = `${values[a]}-${values[b]}=${result}`;
      break;
    case 2:
      prompt = 'max value';
      result = Math.max(...values);
      how = `max is ${result}`;
      break;
    case 3:
      prompt = 'sum of bars';
      result = values.reduce((s, v) => s + v, 0);
      how = `sum is ${result}`;
      break;
    default:
      prompt = `value of ${named[a]}`;
      result = values[a]!;
      how = `${named[a]} is ${result}`;
  }
  return {
    image,
    prompt,
    solution: String(result),
    answer: String(result),
    objects: [],
    think: `${readout}. ${how}.`,
  };
}
