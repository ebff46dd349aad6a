/**
 * Reference KV-cache kernels of batched decoding: storing keys/values (f32 or bf16 bits) and one
 * step's attention. The specification src/native/decode.cc is tested against.
 */
import type { KvCacheArray, Kernels } from '../types.js';
import { roundBf16 } from './linalg.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bf16 bits of x (round to nearest even; x is already representable after roundBf16). */
function bf16Bits(x: number): number {
  f32[0] = roundBf16(x);
  return u32[0]! >>> 16;
}

function fromBits(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

/** Element i of a cache as a number, whichever its type. */
function read(cache: KvCacheArray, i: number): number {
  return cache instanceof Uint16Array ? fromBits(cache[i]!) : cache[i]!;
}

function write(cache: KvCacheArray, i: number, x: number): void {
  cache[i] = cache instanceof Uint16Array ? bf16Bits(x) : x;
}

function kvStore(
  qkv: Float32Array,
  kCache: KvCacheArray,
  vCache: KvCacheArray,
  batch: number,
  seq: number,
  width: number,
  cap: number,
  source: Int32Array,
  start: Int32Array,
): void {
  const rows = Math.floor(qkv.length / (seq * 3 * width));
  for (let b = 0; b < batch; b++) {
    if (source[b]! < 0 || source[b]! >= rows)
      throw new RangeError(`kvStore: source[${b}] = ${source[b]} is outside qkv's ${rows} rows`);
    if (start[b]! < 0 || start[b]! + seq > cap)
      throw new RangeError(
        `kvStore: start[${b}] = ${start[b]} + seq ${seq} is outside [0, cap = ${cap}]`,
      );
    for (let t = 0; t < seq; t++) {
      const src = (source[b]! * seq + t) * 3 * width;
      const dst = (b * cap + start[b]! + t) * width;
      for (let i = 0; i < width; i++) {
        write(kCache, dst + i, qkv[src + width + i]!);
        write(vCache, dst + i, qkv[src + 2 * width + i]!);
      }
    }
  }
}

function attentionDecode(
  qkv: Float32Array,
  kCache: KvCacheArray,
  vCache: KvCacheArray,
  out: Float32Array,
  batch: number,
  heads: number,
  headDim: number,
  cap: number,
  lens: Int32Array,
): void {
  const HD = heads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  const w = new Float64Array(cap);
  for (let b = 0; b < batch; b++) {
    const len = lens[b]!;
    if (len < 0 || len > cap)
      throw new RangeError(`attentionDecode: lens[${b}] = ${len} is outside [0, cap = ${cap}]`);
    for (let h = 0; h < heads; h++) {
      const qo = b * 3 * HD + h * headDim;
      const oo = b * HD + h * headDim;
      if (len === 0) {
        out.fill(0, oo, oo + headDim);
        continue;
      }
      let max = -Infinity;
      for (let j = 0; j < len; j++) {
        const ko = (b * cap + j) * HD + h * headDim;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += qkv[qo + d]! * read(kCache, ko + d);
        w[j] = dot * scale;
        if (w[j]! > max) max = w[j]!;
      }
      let sum = 0;
      for (let j = 0; j < len; j++) {
        w[j] = Math.exp(w[j]! - max);
        sum += w[j]!;
      }
      for (let d = 0; d < headDim; d++) {
        let acc = 0;
        for (let j = 0; j < len; j++)
          acc += w[j]! * read(vCache, (b * cap + j) * HD + h * headDim + d);
        out[oo + d] = acc / sum;
      }
    }
  }
}

export const decodeReference: Pick<Kernels, 'kvStore' | 'attentionDecode'> = {
  kvStore,
  attentionDecode,
};
