/**
 * Pixel thresholds of the accuracy reward are stated at a reference resolution and scaled to the
 * image. The reference is 840 px, the side VisionReasoner resizes its training images to, where
 * the paper's thresholds (box mean L1 < 10 px, point within 30 px) were set. On our default 64×64
 * images the scale is 64/840, i.e. mean L1 < 0.76 px (an exact box) and point within 2.29 px.
 * Callers who want raw-pixel thresholds pass `referenceSize` equal to the image side.
 */
export const REFERENCE_SIZE = 840;
/** Box mean-L1 threshold at the reference resolution (pixels, strict <). */
export const BOX_L1_THRESHOLD = 10;
/** Point distance threshold at the reference resolution (pixels, strict <). */
export const POINT_DISTANCE_THRESHOLD = 30;
/** Box IoU threshold (scale-free, strict >). */
export const IOU_THRESHOLD = 0.5;
/** Default image side of the rendered task suite. */
export const DEFAULT_IMAGE_SIZE = 64;

export interface ImageScaleOptions {
  /** Image width in pixels (default 64). */
  width?: number;
  /** Image height in pixels (default 64). */
  height?: number;
  /** Resolution at which the pixel thresholds are defined (default 840). */
  referenceSize?: number;
}

export interface Thresholds {
  iou: number;
  boxL1: number;
  pointDistance: number;
}

function positive(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Thresholds scaled by max(width, height) / referenceSize. */
export function thresholdsFor(options: ImageScaleOptions = {}): Thresholds {
  const w = positive(options.width, DEFAULT_IMAGE_SIZE);
  const h = positive(options.height, DEFAULT_IMAGE_SIZE);
  const ref = positive(options.referenceSize, REFERENCE_SIZE);
  const s = Math.max(w, h) / ref;
  return {
    iou: IOU_THRESHOLD,
    boxL1: BOX_L1_THRESHOLD * s,
    pointDistance: POINT_DISTANCE_THRESHOLD * s,
  };
}
