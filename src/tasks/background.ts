/** Backgrounds and textures: dull, low-contrast fills so the saturated objects stay the salient things. */
import { createImage, type Rgb, type RgbImage } from './image.js';
import type { Rng } from './rng.js';

export const BACKGROUNDS = ['solid', 'gradient', 'noise', 'stripes', 'checker'] as const;
export type BackgroundKind = (typeof BACKGROUNDS)[number];

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** A dull base colour: dark to mid grey with a slight tint. */
export function dullColor(rng: Rng): Rgb {
  const base = rng.int(25, 95);
  return [
    clamp(base + rng.int(-12, 12)),
    clamp(base + rng.int(-12, 12)),
    clamp(base + rng.int(-12, 12)),
  ];
}

/** Render a background of the given kind around a base colour. */
export function renderBackground(
  rng: Rng,
  width: number,
  height: number,
  kind: BackgroundKind,
  base: Rgb = dullColor(rng),
): RgbImage {
  const img = createImage(width, height, base);
  const d = img.data;
  const amp = rng.int(6, 14);
  const period = rng.int(3, 8);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let delta = 0;
      switch (kind) {
        case 'solid':
          break;
        case 'gradient':
          delta = ((x + y) / (width + height) - 0.5) * 2 * amp;
          break;
        case 'noise':
          delta = rng.int(-amp, amp);
          break;
        case 'stripes':
          delta = Math.floor(y / period) % 2 ? amp : -amp;
          break;
        case 'checker':
          delta = (Math.floor(x / period) + Math.floor(y / period)) % 2 ? amp : -amp;
          break;
      }
      const i = (y * width + x) * 3;
      d[i] = clamp(base[0] + delta);
      d[i + 1] = clamp(base[1] + delta);
      d[i + 2] = clamp(base[2] + delta);
    }
  return img;
}

/** A skin-like textured background (for the lesion task): warm beige with mottled noise. */
export function renderSkin(rng: Rng, width: number, height: number): RgbImage {
  const base: Rgb = [rng.int(200, 235), rng.int(160, 190), rng.int(130, 160)];
  const img = createImage(width, height, base);
  for (let p = 0; p < width * height; p++) {
    const n = rng.int(-10, 10);
    img.data[p * 3] = clamp(base[0] + n);
    img.data[p * 3 + 1] = clamp(base[1] + n);
    img.data[p * 3 + 2] = clamp(base[2] + n);
  }
  return img;
}
