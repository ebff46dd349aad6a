/**
 * AdamW with decoupled weight decay and global gradient-norm clipping, plus the learning-rate
 * schedule (linear warmup, cosine decay). Optimizer state is plain Float32Arrays so checkpoints
 * can save and restore it exactly.
 */
import { kernels } from './kernels/index.js';
import { ShapeError, type Tensor } from './tensor.js';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** clip the global gradient L2 norm to this value (0 or undefined: no clipping) */
  maxGradNorm?: number;
  /**
   * Per-parameter multiplier of the learning rate (default 1). 0 freezes a parameter: it is not
   * updated, its moments stay untouched and its gradient does not count in the clipping norm.
   */
  lrScale?: (p: Tensor) => number;
}

export interface StepReport {
  /** global L2 norm of the gradients before clipping */
  gradNorm: number;
  /** factor the gradients were multiplied by (1 = not clipped) */
  clipScale: number;
  /** true if the update was skipped because the gradients held NaN/Inf */
  skipped: boolean;
}

export interface AdamWState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

/** Global L2 norm over the gradients of params (missing gradients count as zero). */
export function globalGradNorm(params: readonly Tensor[]): number {
  const K = kernels();
  let ss = 0;
  for (const p of params) if (p.grad) ss += K.sumSquares(p.grad, p.grad.length);
  return Math.sqrt(ss);
}

export class AdamW {
  readonly params: readonly Tensor[];
  private readonly decay: boolean[];
  private readonly lrScales: number[];
  /** the parameters with a non-zero learning rate (the clipping norm is theirs) */
  private readonly trained: readonly Tensor[];
  private m: Float32Array[];
  private v: Float32Array[];
  stepCount = 0;
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number;

  /**
   * decay(p) says whether p gets weight decay; by default matrices do and vectors (norm gains)
   * do not, the usual practice for transformers.
   */
  constructor(
    params: readonly Tensor[],
    opts: AdamWOptions,
    decay: (p: Tensor) => boolean = (p) => p.rank >= 2,
  ) {
    this.params = params;
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.0;
    this.maxGradNorm = opts.maxGradNorm ?? 0;
    this.decay = params.map(decay);
    this.lrScales = params.map((p) => opts.lrScale?.(p) ?? 1);
    this.trained = params.filter((_, i) => this.lrScales[i]! > 0);
    this.m = params.map((p) => new Float32Array(p.size));
    this.v = params.map((p) => new Float32Array(p.size));
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** One update from the accumulated gradients. */
  step(lr: number = this.lr): StepReport {
    const gradNorm = globalGradNorm(this.trained);
    if (!Number.isFinite(gradNorm)) return { gradNorm, clipScale: 0, skipped: true };
    const clipScale =
      this.maxGradNorm > 0 && gradNorm > this.maxGradNorm
        ? this.maxGradNorm / (gradNorm + 1e-6)
        : 1;
    this.stepCount++;
    const bc1 = 1 - Math.pow(this.beta1, this.stepCount);
    const bc2 = 1 - Math.pow(this.beta2, this.stepCount);
    const K = kernels();
    this.params.forEach((p, i) => {
      if (this.lrScales[i] === 0) return;
      // No gradient buffer (nothing reached p since it was created, e.g. right after a resume)
      // is a zero gradient, as it is after zeroGrad() in an uninterrupted run: momentum and
      // weight decay apply either way, so a resumed run updates exactly like the original.
      K.adamw(
        p.data,
        p.gradBuffer(),
        this.m[i]!,
        this.v[i]!,
        p.size,
        lr * this.lrScales[i]!,
        this.beta1,
        this.beta2,
        this.eps,
        this.decay[i] ? this.weightDecay : 0,
        bc1,
        bc2,
        clipScale,
      );
      p.markModified();
    });
    return { gradNorm, clipScale, skipped: false };
  }

  state(): AdamWState {
    return { step: this.stepCount, m: this.m, v: this.v };
  }

  loadState(s: AdamWState): void {
    if (s.m.length !== this.params.length || s.v.length !== this.params.length) {
      throw new ShapeError(
        `AdamW.loadState: state has ${s.m.length} tensors, optimizer has ${this.params.length}`,
      );
    }
    this.params.forEach((p, i) => {
      if (s.m[i]!.length !== p.size || s.v[i]!.length !== p.size) {
        throw new ShapeError(
          `AdamW.loadState: state tensor ${i} has ${s.m[i]!.length} values, parameter ${p.name ?? i} has ${p.size}`,
        );
      }
    });
    this.stepCount = s.step;
    this.m = s.m.map((a) => a.slice());
    this.v = s.v.map((a) => a.slice());
  }
}

export interface ScheduleOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** final lr as a fraction of baseLr (default 0.1) */
  minLrRatio?: number;
}

/** lr at a step (0-based): linear warmup to baseLr, then cosine decay to minLrRatio·baseLr. */
export function warmupCosineLr(step: number, o: ScheduleOptions): number {
  const minLr = o.baseLr * (o.minLrRatio ?? 0.1);
  if (o.warmupSteps > 0 && step < o.warmupSteps) return (o.baseLr * (step + 1)) / o.warmupSteps;
  const decaySteps = Math.max(1, o.totalSteps - o.warmupSteps);
  const t = Math.min(1, Math.max(0, (step - o.warmupSteps) / decaySteps));
  return minLr + 0.5 * (o.baseLr - minLr) * (1 + Math.cos(Math.PI * t));
}
