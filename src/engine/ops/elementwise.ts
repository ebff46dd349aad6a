/** Elementwise arithmetic: add (with broadcast over leading dims), mul, scale, silu. */
import { kernels } from '../kernels/index.js';
import { allocF32 } from '../memory.js';
import { Tensor, expectShape, formatShape, opResult } from '../tensor.js';

function trailingMatch(a: readonly number[], b: readonly number[]): boolean {
  if (b.length > a.length) return false;
  for (let i = 1; i <= b.length; i++) if (a[a.length - i] !== b[b.length - i]) return false;
  return true;
}

/**
 * a + b. b may have fewer dims than a if they match a's trailing dims (b is then added to every
 * leading slice, e.g. a position table [T, D] added to [B, T, D]).
 */
export function add(a: Tensor, b: Tensor): Tensor {
  expectShape(
    trailingMatch(a.shape, b.shape),
    'add',
    () => `cannot add ${formatShape(b.shape)} to ${formatShape(a.shape)}`,
  );
  const K = kernels();
  const out = allocF32(a.size, false);
  const n = b.size;
  if (n === a.size) K.add(a.data, b.data, out, n);
  else
    for (let o = 0; o < a.size; o += n)
      K.add(a.data.subarray(o, o + n), b.data, out.subarray(o, o + n), n);
  return opResult('add', out, a.shape, [a, b], (y) => {
    const dy = y.grad!;
    if (a.requiresGrad) K.axpy(1, dy, a.gradBuffer(), a.size);
    if (b.requiresGrad) {
      const db = b.gradBuffer();
      for (let o = 0; o < a.size; o += n) K.axpy(1, dy.subarray(o, o + n), db, n);
    }
  });
}

/** a * b, same shapes. */
export function mul(a: Tensor, b: Tensor): Tensor {
  expectShape(
    a.size === b.size && a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]),
    'mul',
    () => `shapes differ: ${formatShape(a.shape)} vs ${formatShape(b.shape)}`,
  );
  const K = kernels();
  const out = allocF32(a.size, false);
  K.mul(a.data, b.data, out, a.size);
  return opResult('mul', out, a.shape, [a, b], (y) => {
    const dy = y.grad!;
    const tmp = allocF32(a.size, false);
    if (a.requiresGrad) {
      K.mul(dy, b.data, tmp, a.size);
      K.axpy(1, tmp, a.gradBuffer(), a.size);
    }
    if (b.requiresGrad) {
      K.mul(dy, a.data, tmp, a.size);
      K.axpy(1, tmp, b.gradBuffer(), a.size);
    }
  });
}

/** a * s for a constant s. */
export function scale(a: Tensor, s: number): Tensor {
  const K = kernels();
  const out = a.data.slice();
  K.scaleInPlace(out, s, out.length);
  return opResult('scale', out, a.shape, [a], (y) => {
    K.axpy(s, y.grad!, a.gradBuffer(), a.size);
  });
}

/** silu(x) = x * sigmoid(x). (The model uses the fused swiglu; this is the plain activation.) */
export function silu(x: Tensor): Tensor {
  const out = allocF32(x.size, false);
  for (let i = 0; i < x.size; i++) {
    const v = x.data[i]!;
    out[i] = v / (1 + Math.exp(-v));
  }
  return opResult('silu', out, x.shape, [x], (y) => {
    const dy = y.grad!;
    const dx = x.gradBuffer();
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i]!;
      const s = 1 / (1 + Math.exp(-v));
      dx[i]! += dy[i]! * s * (1 + v * (1 - s));
    }
  });
}
