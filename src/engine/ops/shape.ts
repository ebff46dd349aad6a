/** Shape ops: reshape, transpose, concat, slice. Data is copied into dense row-major outputs. */
import { kernels } from '../kernels/index.js';
import { allocF32 } from '../memory.js';
import { Tensor, expectShape, formatShape, opResult, shapeSize } from '../tensor.js';

function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  expectShape(a >= 0 && a < rank, op, () => `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Same data, new shape (one dim may be -1). The output shares x's buffer. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  expectShape(inferred <= 1, 'reshape', () => `at most one -1 allowed in ${formatShape(shape)}`);
  const knownSize = shapeSize(known);
  const full = shape.map((d) => (d === -1 ? x.size / knownSize : d));
  expectShape(
    shapeSize(full) === x.size && full.every(Number.isInteger),
    'reshape',
    () => `cannot view ${formatShape(x.shape)} (${x.size} values) as ${formatShape(shape)}`,
  );
  const K = kernels();
  return opResult('reshape', x.data, full, [x], (y) => K.axpy(1, y.grad!, x.gradBuffer(), x.size));
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Copy src (with shape) into dst with axes permuted: dst[idx permuted] = src[idx]. */
function permuteCopy(
  src: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
  dst: Float32Array,
  accumulate: boolean,
): void {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = strides(shape);
  const stepIn = perm.map((p) => inStrides[p]!); // input stride for each output axis
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let inOff = 0;
  for (let o = 0; o < dst.length; o++) {
    if (accumulate) dst[o]! += src[inOff]!;
    else dst[o] = src[inOff]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      inOff += stepIn[d]!;
      if (idx[d]! < outShape[d]!) break;
      inOff -= stepIn[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/** Swap two axes. */
export function transpose(x: Tensor, axis0: number, axis1: number): Tensor {
  const a0 = normAxis(axis0, x.rank, 'transpose');
  const a1 = normAxis(axis1, x.rank, 'transpose');
  const perm = x.shape.map((_, i) => i);
  perm[a0] = a1;
  perm[a1] = a0;
  const outShape = perm.map((p) => x.shape[p]!);
  const out = allocF32(x.size, false);
  permuteCopy(x.data, x.shape, perm, out, false);
  return opResult('transpose', out, outShape, [x], (y) => {
    // The inverse of a swap is the same swap.
    permuteCopy(y.grad!, outShape, perm, x.gradBuffer(), true);
  });
}

/** Join tensors along an axis; all other dims must match. */
export function concat(xs: Tensor[], axis: number): Tensor {
  expectShape(xs.length > 0, 'concat', () => 'nothing to concatenate');
  const first = xs[0]!;
  const ax = normAxis(axis, first.rank, 'concat');
  for (const t of xs) {
    expectShape(
      t.rank === first.rank && t.shape.every((d, i) => i === ax || d === first.shape[i]),
      'concat',
      () => `${formatShape(t.shape)} does not match ${formatShape(first.shape)} off axis ${ax}`,
    );
  }
  const outer = shapeSize(first.shape.slice(0, ax));
  const inner = shapeSize(first.shape.slice(ax + 1));
  const total = xs.reduce((s, t) => s + t.shape[ax]!, 0);
  const outShape = [...first.shape];
  outShape[ax] = total;
  const out = allocF32(outer * total * inner, false);
  let offset = 0;
  for (const t of xs) {
    const w = t.shape[ax]! * inner;
    for (let o = 0; o < outer; o++)
      out.set(t.data.subarray(o * w, (o + 1) * w), o * total * inner + offset);
    offset += w;
  }
  const K = kernels();
  return opResult('concat', out, outShape, xs, (y) => {
    const dy = y.grad!;
    let off = 0;
    for (const t of xs) {
      const w = t.shape[ax]! * inner;
      if (t.requiresGrad) {
        const g = t.gradBuffer();
        for (let o = 0; o < outer; o++) {
          K.axpy(
            1,
            dy.subarray(o * total * inner + off, o * total * inner + off + w),
            g.subarray(o * w, (o + 1) * w),
            w,
          );
        }
      }
      off += w;
    }
  });
}

/** x[..., start:end, ...] along one axis. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis(axis, x.rank, 'slice');
  const len = x.shape[ax]!;
  expectShape(
    Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= len,
    'slice',
    () => `range [${start}, ${end}) out of bounds for axis ${ax} of ${formatShape(x.shape)}`,
  );
  const outer = shapeSize(x.shape.slice(0, ax));
  const inner = shapeSize(x.shape.slice(ax + 1));
  const w = (end - start) * inner;
  const out = allocF32(outer * w, false);
  for (let o = 0; o < outer; o++) {
    const src = o * len * inner + start * inner;
    out.set(x.data.subarray(src, src + w), o * w);
  }
  const outShape = [...x.shape];
  outShape[ax] = end - start;
  const K = kernels();
  return opResult('slice', out, outShape, [x], (y) => {
    const dy = y.grad!;
    const g = x.gradBuffer();
    for (let o = 0; o < outer; o++) {
      const dst = o * len * inner + start * inner;
      K.axpy(1, dy.subarray(o * w, (o + 1) * w), g.subarray(dst, dst + w), w);
    }
  });
}

/** Rows of x picked along axis 0: out[i] = x[idx[i]] (rows may repeat; gradients add up). */
export function gatherRows(x: Tensor, idx: Int32Array): Tensor {
  expectShape(x.rank >= 1, 'gatherRows', () => 'input must have rank >= 1');
  const n = x.dim(0);
  const row = x.size / Math.max(1, n);
  for (let i = 0; i < idx.length; i++) {
    expectShape(
      idx[i]! >= 0 && idx[i]! < n,
      'gatherRows',
      () => `index ${idx[i]} at ${i} outside [0, ${n})`,
    );
  }
  const out = allocF32(idx.length * row, false);
  for (let i = 0; i < idx.length; i++)
    out.set(x.data.subarray(idx[i]! * row, (idx[i]! + 1) * row), i * row);
  const K = kernels();
  return opResult('gatherRows', out, [idx.length, ...x.shape.slice(1)], [x], (y) => {
    const dy = y.grad!;
    const g = x.gradBuffer();
    for (let i = 0; i < idx.length; i++) {
      K.axpy(
        1,
        dy.subarray(i * row, (i + 1) * row),
        g.subarray(idx[i]! * row, (idx[i]! + 1) * row),
        row,
      );
    }
  });
}
