/**
 * Element encodings used by safetensors files, and conversions to/from Float32.
 *
 * Conversions work on raw bit patterns (Uint32Array views of Float32Array) so that they are
 * exact and independent of host float behaviour, and so that -0, subnormals and Inf survive.
 */
import { endianness } from 'node:os';

/**
 * Every dtype name the safetensors spec defines. Only the float ones in READABLE_DTYPES can be
 * decoded; the others are recognised so that the error says "unsupported" rather than "unknown".
 */
export const KNOWN_SAFETENSORS_DTYPES: ReadonlySet<string> = new Set([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
  'C64',
]);

/** The dtypes visurf can decode into Float32Array. */
export type ReadableDtype = 'F32' | 'BF16' | 'F16';
export const READABLE_DTYPES: readonly ReadableDtype[] = ['F32', 'BF16', 'F16'];

/** Storage dtype names as the rest of visurf spells them. */
export type StorageDtype = 'f32' | 'bf16';

export const READABLE_ITEM_SIZE: Readonly<Record<ReadableDtype, number>> = {
  F32: 4,
  BF16: 2,
  F16: 2,
};

export function isReadableDtype(d: string): d is ReadableDtype {
  return (READABLE_DTYPES as readonly string[]).includes(d);
}

/** Safetensors stores little-endian data; on such hosts we can copy bytes straight across. */
export const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * f32 bits -> bf16 bits, rounding to nearest, ties to even (what PyTorch and oneDNN do).
 * Plain truncation would bias every weight towards zero.
 */
export function f32BitsToBf16Bits(bits: number): number {
  bits >>>= 0;
  if ((bits & 0x7fffffff) > 0x7f800000) {
    // NaN: truncating could clear every mantissa bit (turning it into Inf), so keep the sign
    // and top payload bits and force the quiet bit.
    return ((bits >>> 16) | 0x0040) & 0xffff;
  }
  const lsb = (bits >>> 16) & 1;
  // Cannot exceed 2^32: the largest non-NaN pattern is -Inf (0xff800000).
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** bf16 bits -> f32 bits (exact: bf16 is the top half of an f32). */
export function bf16BitsToF32Bits(h: number): number {
  return ((h & 0xffff) << 16) >>> 0;
}

/** IEEE half bits -> float value (exact; every f16 value is representable in f32). */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero / subnormal (keeps -0)
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Encode a Float32Array as little-endian bytes of the given storage dtype into `out`. */
export function encodeInto(data: Float32Array, dtype: StorageDtype, out: Uint8Array): void {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  if (dtype === 'f32') {
    if (HOST_IS_LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else {
      for (let i = 0; i < bits.length; i++) {
        const b = bits[i]!;
        out[4 * i] = b & 0xff;
        out[4 * i + 1] = (b >>> 8) & 0xff;
        out[4 * i + 2] = (b >>> 16) & 0xff;
        out[4 * i + 3] = b >>> 24;
      }
    }
    return;
  }
  for (let i = 0; i < bits.length; i++) {
    const h = f32BitsToBf16Bits(bits[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
}

/** Bytes per element of a storage dtype. */
export function storageItemSize(dtype: StorageDtype): number {
  return dtype === 'f32' ? 4 : 2;
}

/**
 * Decode `numel` elements of `dtype` from `src` (any alignment) into a fresh, aligned
 * Float32Array. The caller has already checked that `src` holds exactly numel * itemsize bytes.
 */
export function decodeToFloat32(
  src: Uint8Array,
  dtype: ReadableDtype,
  numel: number,
): Float32Array {
  const out = new Float32Array(numel);
  const bits = new Uint32Array(out.buffer);
  switch (dtype) {
    case 'F32':
      if (HOST_IS_LITTLE_ENDIAN) {
        new Uint8Array(out.buffer).set(src.subarray(0, numel * 4));
      } else {
        for (let i = 0; i < numel; i++) {
          const o = 4 * i;
          bits[i] =
            (src[o]! | (src[o + 1]! << 8) | (src[o + 2]! << 16) | (src[o + 3]! << 24)) >>> 0;
        }
      }
      break;
    case 'BF16':
      for (let i = 0; i < numel; i++)
        bits[i] = bf16BitsToF32Bits(src[2 * i]! | (src[2 * i + 1]! << 8));
      break;
    case 'F16':
      for (let i = 0; i < numel; i++)
        out[i] = f16BitsToNumber(src[2 * i]! | (src[2 * i + 1]! << 8));
      break;
  }
  return out;
}

/** Round every element of `data` to bf16 and back (what a bf16 save then load yields). */
export function roundToBf16(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  const src = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const dst = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) dst[i] = bf16BitsToF32Bits(f32BitsToBf16Bits(src[i]!));
  return out;
}
