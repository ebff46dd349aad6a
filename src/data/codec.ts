/** PNG/JPEG decode and encode and resizing, via sharp. Images are plain RGB buffers everywhere else. */
import sharp from 'sharp';
import type { RgbImage } from '../tasks/image.js';

/** Lossless PNG bytes of an RGB image. */
export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const buf = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png({ compressionLevel: 6 })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** JPEG bytes of an RGB image (lossy; for compatibility with datasets that store JPEG). */
export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Uint8Array> {
  const buf = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .jpeg({ quality })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Decode PNG/JPEG/WebP/... bytes into RGB (alpha flattened onto black, greyscale expanded). */
export async function decodeImage(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes)
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3)
    throw new Error(`decoded image has ${info.channels} channels, expected 3`);
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** Decode an image file from disk. */
export async function readImageFile(path: string): Promise<RgbImage> {
  const { readFile } = await import('node:fs/promises');
  return decodeImage(new Uint8Array(await readFile(path)));
}

/** Resize to exactly width×height (aspect not kept, like VisionReasoner's square 840 resize). */
export async function resizeImage(
  img: RgbImage,
  width: number,
  height: number,
  kernel: 'nearest' | 'lanczos3' = 'lanczos3',
): Promise<RgbImage> {
  const { data, info } = await sharp(
    Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength),
    {
      raw: { width: img.width, height: img.height, channels: 3 },
    },
  )
    .resize(width, height, { fit: 'fill', kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
