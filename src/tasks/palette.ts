/** Named colours of the task suite: saturated object colours, kept apart from the dull backgrounds. */
import type { Rgb } from './image.js';

export const COLORS = {
  red: [220, 40, 40],
  green: [40, 180, 60],
  blue: [50, 90, 230],
  yellow: [240, 215, 40],
  purple: [160, 60, 200],
  orange: [245, 140, 30],
  white: [245, 245, 245],
  cyan: [40, 210, 220],
} as const satisfies Record<string, Rgb>;

export type ColorName = keyof typeof COLORS;
export const COLOR_NAMES = Object.keys(COLORS) as ColorName[];
