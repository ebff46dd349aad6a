/**
 * Tensors and the autograd graph.
 *
 * A Tensor is a dense row-major Float32Array with a shape. When gradients are enabled and an
 * op's input requires them, the op records its inputs (`parents`) and a `backwardFn` that
 * pushes the output's gradient into the inputs' gradients (kernels accumulate, so a tensor used
 * twice just receives two contributions). `backward()` in ./autograd.ts walks the graph.
 */
import { kernels } from './kernels/index.js';
import { allocF32 } from './memory.js';

/** A shape mismatch or invalid argument, named after the op that found it. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** NaN/Inf found in an op's output while finite-checking is on (see setCheckFinite). */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

let gradEnabled = true;
let checkFinite = false;

/** Whether ops record the graph (false inside noGrad). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn without recording the graph (sampling, evaluation): no memory is kept for backward. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** When on, every op checks its output for NaN/Inf and throws NonFiniteError naming itself. */
export function setCheckFinite(on: boolean): void {
  checkFinite = on;
}
export function isCheckFinite(): boolean {
  return checkFinite;
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** gradient buffer, allocated (zeroed) on first use */
  grad: Float32Array | null = null;
  private trainable: boolean;
  /** inputs this tensor was computed from (empty for leaves and no-grad results) */
  parents: Tensor[];
  /** pushes this.grad into the parents' gradients */
  backwardFn: (() => void) | null;
  /** keep the gradient after backward (leaves always keep theirs) */
  retainGrad = false;
  name: string | undefined;
  /**
   * Bumped by whoever writes `data` in place after creation (the optimizer, gradcheck): caches
   * derived from the values, such as a weight's bf16 copy, compare it to stay valid.
   */
  version = 0;

  constructor(
    data: Float32Array,
    shape: readonly number[],
    requiresGrad = false,
    parents: Tensor[] = [],
    backwardFn: (() => void) | null = null,
  ) {
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new ShapeError(
        `Tensor: data has ${data.length} elements but shape ${formatShape(shape)} needs ${n}`,
      );
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new ShapeError(`Tensor: invalid shape ${formatShape(shape)}`);
      }
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.trainable = requiresGrad;
    this.parents = parents;
    this.backwardFn = backwardFn;
  }

  static zeros(shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)), shape, requiresGrad);
  }

  static from(values: ArrayLike<number>, shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(Float32Array.from(values), shape, requiresGrad);
  }

  /** A trainable leaf. */
  static param(data: Float32Array, shape: readonly number[], name?: string): Tensor {
    const t = new Tensor(data, shape, true);
    t.name = name;
    return t;
  }

  /** true if gradients flow to (leaf) or through (op result) this tensor */
  get requiresGrad(): boolean {
    return this.trainable;
  }

  /**
   * Freeze (false) or unfreeze (true) a parameter. A frozen parameter records no graph, so the
   * layers that only depend on frozen parameters and inputs run as under noGrad: no saved
   * activations, no backward pass through them.
   */
  setTrainable(on: boolean): void {
    if (!this.isLeaf) throw new ShapeError('setTrainable: only a leaf (a parameter) can be frozen');
    this.trainable = on;
    if (!on) this.grad = null;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Size of dimension d (negative counts from the end). */
  dim(d: number): number {
    const i = d < 0 ? this.shape.length + d : d;
    const v = this.shape[i];
    if (v === undefined)
      throw new ShapeError(`dim ${d} out of range for ${formatShape(this.shape)}`);
    return v;
  }

  get isLeaf(): boolean {
    return this.backwardFn === null;
  }

  /** The gradient buffer, allocated zeroed if absent. */
  gradBuffer(): Float32Array {
    // Parameters keep ordinary buffers; intermediate gradients may come from a step arena.
    if (!this.grad)
      this.grad = this.isLeaf ? new Float32Array(this.data.length) : allocF32(this.data.length);
    return this.grad;
  }

  /** Record an in-place change of `data` (invalidates derived caches). */
  markModified(): void {
    this.version++;
  }

  zeroGrad(): void {
    if (this.grad) this.grad.fill(0);
  }

  /** A leaf copy sharing nothing with the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  item(): number {
    if (this.data.length !== 1) {
      throw new ShapeError(`item(): tensor has shape ${formatShape(this.shape)}, not a scalar`);
    }
    return this.data[0]!;
  }

  toArray(): number[] {
    return Array.from(this.data);
  }
}

/**
 * Create an op's output. If gradients are being recorded and any input needs them, the output
 * remembers its inputs and backward function; otherwise it is a plain leaf and the inputs can be
 * garbage-collected.
 */
export function opResult(
  op: string,
  data: Float32Array,
  shape: readonly number[],
  inputs: Tensor[],
  backward: (out: Tensor) => void,
): Tensor {
  if (checkFinite) {
    const bad = kernels().countNonFinite(data, data.length);
    if (bad > 0) {
      throw new NonFiniteError(
        `${op}: output ${formatShape(shape)} has ${bad} NaN/Inf value(s)` +
          inputs
            .map((t, i) => {
              const n = kernels().countNonFinite(t.data, t.data.length);
              return n > 0 ? ` (input ${i} already had ${n})` : '';
            })
            .join(''),
      );
    }
  }
  const needs = gradEnabled && inputs.some((t) => t.requiresGrad);
  if (!needs) return new Tensor(data, shape, false);
  const out = new Tensor(data, shape, true, inputs, null);
  out.backwardFn = () => backward(out);
  return out;
}

/** Throw a ShapeError unless cond holds. */
export function expectShape(cond: boolean, op: string, message: () => string): asserts cond {
  if (!cond) throw new ShapeError(`${op}: ${message()}`);
}
