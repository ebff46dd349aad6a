/**
 * The one image type every layer shares (renderer, loaders, metrics, the model's input): 8-bit
 * RGB, row-major, 3 interleaved bytes per pixel. Defined here, at the bottom, so that the model
 * and the task renderer need not import each other.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}
