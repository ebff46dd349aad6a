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

/**
 * As the native kernels check before writing anything: positive sizes, and two caches of one
 * type (f32, or bf16 bits) of which the second is at least as long as the first.
 */
function checkCaches(
  kernel: string,
  sizes: number[],
  kCache: KvCacheArray,
  vCache: KvCacheArray,
): void {
  if (sizes.some((n) => !(n > 0))) throw new TypeError(`${kernel}: sizes must be positive`);
  if (kCache instanceof Uint16Array !== vCache instanceof Uint16Array)
    throw new TypeError(`${kernel}: kCache and vCache must both be f32 or both bf16`);
  if (vCache.length < kCache.length)
    throw new TypeError(`${kernel}: vCache is shorter than kCache`);
}

/** Throws naming the field unless index[i] is in [0, bound) for every i. */
function checkIndices(
  kernel: string,
  name: string,
  index: Int32Array,
  n: number,
  bound: number,
  what: string,
): void {
  for (let i = 0; i < n; i++)
    if (index[i]! < 0 || index[i]! >= bound)
      throw new RangeError(`${kernel}: ${name}[${i}] = ${index[i]} is outside ${what}`);
}

function kvStore(
  qkv: Float32Array,
  kCache: KvCacheArray,
  vCache: KvCacheArray,
  count: number,
  seq: number,
  width: number,
  cap: number,
  source: Int32Array,
  dest: Int32Array,
  start: Int32Array,
): void {
  checkCaches('kvStore', [count, seq, width, cap], kCache, vCache);
  const rows = Math.floor(qkv.length / (seq * 3 * width));
  const seqs = Math.floor(kCache.length / (cap * width));
  checkIndices('kvStore', 'source', source, count, rows, `qkv's ${rows} rows`);
  checkIndices('kvStore', 'dest', dest, count, seqs, `the cache's ${seqs} sequences`);
  for (let i = 0; i < count; i++)
    if (start[i]! < 0 || start[i]! + seq > cap)
      throw new RangeError(
        `kvStore: start[${i}] = ${start[i]} + seq ${seq} is outside [0, cap = ${cap}]`,
      );
  for (let i = 0; i < count; i++) {
    for (let t = 0; t < seq; t++) {
      const src = (source[i]! * seq + t) * 3 * width;
      const dst = (dest[i]! * cap + start[i]! + t) * width;
      for (let e = 0; e < width; e++) {
        write(kCache, dst + e, qkv[src + width + e]!);
        write(vCache, dst + e, qkv[src + 2 * width + e]!);
      }
    }
  }
}

function attentionDecode(
  qkv: Float32Array,
  kCache: KvCacheArray,
  vCache: KvCacheArray,
  out: Float32Array,
  rows: number,
  heads: number,
  headDim: number,
  cap: number,
  lens: Int32Array,
  seqOf: Int32Array,
): void {
  const HD = heads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  const w = new Float64Array(cap);
  checkCaches('attentionDecode', [rows, heads, headDim, cap], kCache, vCache);
  const seqs = Math.floor(kCache.length / (cap * HD));
  checkIndices('attentionDecode', 'seqOf', seqOf, rows, seqs, `the cache's ${seqs} sequences`);
  for (let r = 0; r < rows; r++)
    if (lens[r]! < 0 || lens[r]! > cap)
      throw new RangeError(`attentionDecode: lens[${r}] = ${lens[r]} is outside [0, cap = ${cap}]`);
  for (let r = 0; r < rows; r++) {
    const len = lens[r]!;
    const s = seqOf[r]!;
    for (let h = 0; h < heads; h++) {
      const qo = r * 3 * HD + h * headDim;
      const oo = r * HD + h * headDim;
      if (len === 0) {
        out.fill(0, oo, oo + headDim);
        continue;
      }
      let max = -Infinity;
      for (let j = 0; j < len; j++) {
        const ko = (s * cap + j) * HD + h * headDim;
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
          acc += w[j]! * read(vCache, (s * cap + j) * HD + h * headDim + d);
        out[oo + d] = acc / sum;
      }
    }
  }
}

function sampleTokens(
  logits: Float32Array,
  vocab: number,
  rows: number,
  rowOf: Int32Array,
  temperature: number,
  uniforms: Float64Array,
  tokens: Int32Array,
  logprobs: Float32Array,
): void {
  if (!(vocab > 0)) throw new TypeError('sampleTokens: vocab must be positive');
  if (!Number.isFinite(temperature))
    throw new TypeError('sampleTokens: temperature must be finite');
  for (const [name, a] of [
    ['uniforms', uniforms],
    ['tokens', tokens],
    ['logprobs', logprobs],
  ] as const)
    if (a.length < rows)
      throw new RangeError(`sampleTokens: ${name} has ${a.length} elements, need ${rows}`);
  const logitRows = Math.floor(logits.length / vocab);
  checkIndices('sampleTokens', 'rowOf', rowOf, rows, logitRows, `the logits' ${logitRows} rows`);
  const greedy = temperature <= 0;
  const t = greedy ? 1 : temperature;
  const e = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    const o = rowOf[r]! * vocab;
    let best = 0;
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) {
      const x = logits[o + j]! / t;
      if (x > max) {
        max = x;
        best = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < vocab; j++) {
      e[j] = Math.exp(logits[o + j]! / t - max);
      sum += e[j]!;
    }
    const lse = max + Math.log(sum);
    let pick = best;
    if (!greedy) {
      let left = uniforms[r]! * sum;
      for (let j = 0; j < vocab; j++) {
        left -= e[j]!;
        if (left <= 0) {
          pick = j;
          break;
        }
      }
    }
    tokens[r] = pick;
    logprobs[r] = logits[o + pick]! / t - lse;
  }
}

export const decodeReference: Pick<Kernels, 'kvStore' | 'attentionDecode' | 'sampleTokens'> = {
  kvStore,
  attentionDecode,
  sampleTokens,
};
