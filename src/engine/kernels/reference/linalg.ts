/**
 * Reference matmul and attention: straightforward loops, the specification the oneDNN-backed
 * native versions are tested against.
 */
import {
  ATTENTION_ROW_STATS,
  type AttentionSpec,
  type Kernels,
  type MatmulSpec,
} from '../types.js';

/** Round an f32 to the nearest bf16 value (ties to even), as the bf16 matmul sees its inputs. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function roundBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000) return x; // Inf / NaN unchanged
  const rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  u32[0] = rounded >>> 0;
  return f32[0]!;
}

function maybeRound(x: Float32Array, dtype: MatmulSpec['dtype']): Float32Array {
  if (dtype === 'f32') return x;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = roundBf16(x[i]!);
  return out;
}

function fromBf16Bits(x: Uint16Array): Float32Array {
  return new Float32Array(Uint32Array.from(x, (h) => h << 16).buffer);
}

function matmul(a0: Float32Array, b0: Float32Array, c: Float32Array, s: MatmulSpec): void {
  const a = maybeRound(a0, s.dtype);
  const b = s.dtype === 'bf16' && s.bBf16 ? fromBf16Bits(s.bBf16) : maybeRound(b0, s.dtype);
  const { m, n, k } = s;
  for (let bi = 0; bi < s.batch; bi++) {
    const ao = bi * m * k;
    const bo = s.broadcastB ? 0 : bi * k * n;
    const co = bi * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = s.transA ? a[ao + p * m + i]! : a[ao + i * k + p]!;
          const bv = s.transB ? b[bo + j * k + p]! : b[bo + p * n + j]!;
          acc += av * bv;
        }
        c[co + i * n + j] = s.accumulate ? c[co + i * n + j]! + acc : acc;
      }
    }
  }
}

/** Index helpers for the fused qkv layout [batch, seq, 3, heads, headDim]. */
function qkvIndex(s: AttentionSpec, b: number, t: number, which: number, h: number): number {
  return (((b * s.seq + t) * 3 + which) * s.heads + h) * s.headDim;
}

function visible(s: AttentionSpec, b: number, i: number, j: number): boolean {
  if (s.causal && j > i) return false;
  if (s.keyStart && j < s.keyStart[b]!) return false;
  return true;
}

/**
 * Row i's probabilities into p ([seq], 0 where masked; f32 values) and its stats (max of the
 * scaled scores, 1 / the exp-sum; 0, 0 when it sees no key). Computed in f64 from (rounded) q, k.
 */
function attentionRow(
  qkv: Float32Array,
  s: AttentionSpec,
  b: number,
  h: number,
  i: number,
  p: Float64Array,
): [number, number] {
  const { seq: T, headDim: D } = s;
  const scale = 1 / Math.sqrt(D);
  const qo = qkvIndex(s, b, i, 0, h);
  let max = -Infinity;
  for (let j = 0; j < T; j++) {
    p[j] = 0;
    if (!visible(s, b, i, j)) continue;
    const ko = qkvIndex(s, b, j, 1, h);
    let dot = 0;
    for (let d = 0; d < D; d++) dot += qkv[qo + d]! * qkv[ko + d]!;
    p[j] = dot * scale;
    if (p[j]! > max) max = p[j]!;
  }
  if (max === -Infinity) return [0, 0];
  let sum = 0;
  for (let j = 0; j < T; j++) {
    if (!visible(s, b, i, j)) continue;
    p[j] = Math.exp(p[j]! - max);
    sum += p[j]!;
  }
  // rounded to f32, as the saved probabilities of the native kernels (and this reference's
  // earlier [B, H, T, T] Float32Array) are
  for (let j = 0; j < T; j++) if (visible(s, b, i, j)) p[j] = Math.fround(p[j]! / sum);
  return [max, 1 / sum];
}

function checkStats(kernel: string, stats: Float32Array, s: AttentionSpec): void {
  const need = s.batch * s.heads * s.seq * ATTENTION_ROW_STATS;
  if (stats.length < need)
    throw new RangeError(`${kernel}: stats has ${stats.length} elements, the spec needs ${need}`);
}

function attentionForward(
  qkv0: Float32Array,
  out: Float32Array,
  stats: Float32Array,
  s: AttentionSpec,
): void {
  checkStats('attentionForward', stats, s);
  const qkv = maybeRound(qkv0, s.dtype);
  const { seq: T, heads: H, headDim: D } = s;
  const p = new Float64Array(T);
  for (let b = 0; b < s.batch; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const so = ((b * H + h) * T + i) * ATTENTION_ROW_STATS;
        [stats[so], stats[so + 1]] = attentionRow(qkv, s, b, h, i, p);
        // The product P·V sees P rounded too under bf16, as the native matmul does.
        const oo = ((b * T + i) * H + h) * D;
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < T; j++) {
            if (p[j] === 0) continue;
            const pv = s.dtype === 'bf16' ? roundBf16(p[j]!) : p[j]!;
            acc += pv * qkv[qkvIndex(s, b, j, 2, h) + d]!;
          }
          out[oo + d] = acc;
        }
      }
    }
  }
}

/** The reference recomputes each row's probabilities in f64 (its stats are not needed). */
function attentionBackward(
  qkv0: Float32Array,
  stats: Float32Array,
  dout0: Float32Array,
  dqkv: Float32Array,
  s: AttentionSpec,
): void {
  checkStats('attentionBackward', stats, s);
  const qkv = maybeRound(qkv0, s.dtype);
  const dout = maybeRound(dout0, s.dtype);
  const { seq: T, heads: H, headDim: D } = s;
  const scale = 1 / Math.sqrt(D);
  const probs = new Float64Array(T);
  const dp = new Float64Array(T);
  const r = (x: number) => (s.dtype === 'bf16' ? roundBf16(x) : x);
  for (let b = 0; b < s.batch; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        attentionRow(qkv, s, b, h, i, probs);
        const oo = ((b * T + i) * H + h) * D;
        // dP[j] = dO_i · V_j ; dV_j += P[i,j] dO_i
        let rowDot = 0;
        for (let j = 0; j < T; j++) {
          const p = probs[j]!;
          if (p === 0) {
            dp[j] = 0;
            continue;
          }
          const vo = qkvIndex(s, b, j, 2, h);
          let acc = 0;
          for (let d = 0; d < D; d++) acc += dout[oo + d]! * qkv[vo + d]!;
          dp[j] = acc;
          rowDot += p * acc;
          const pr = r(p);
          for (let d = 0; d < D; d++) dqkv[vo + d] = dqkv[vo + d]! + pr * dout[oo + d]!;
        }
        // dS = P * (dP - rowDot) * scale ; dQ_i += dS K ; dK_j += dS_ij Q_i
        const qo = qkvIndex(s, b, i, 0, h);
        for (let j = 0; j < T; j++) {
          const p = probs[j]!;
          if (p === 0) continue;
          const ds = r(p * (dp[j]! - rowDot) * scale);
          const ko = qkvIndex(s, b, j, 1, h);
          for (let d = 0; d < D; d++) {
            dqkv[qo + d] = dqkv[qo + d]! + ds * qkv[ko + d]!;
            dqkv[ko + d] = dqkv[ko + d]! + ds * qkv[qo + d]!;
          }
        }
      }
    }
  }
}

export const linalgReference: Pick<Kernels, 'matmul' | 'attentionForward' | 'attentionBackward'> = {
  matmul,
  attentionForward,
  attentionBackward,
};
