/**
 * A kernel set that times every call of another one: the basis of `visurf bench --profile`.
 * Time not spent inside kernels (or in a separately timed JS phase such as sampling) is framework
 * overhead: JS loops, allocation, graph bookkeeping, N-API argument marshalling.
 */
import { convOutputSize, type Conv2dSpec, type Kernels } from './types.js';
import { KERNEL_METHODS } from './native.js';

export interface KernelProfile {
  /** seconds, calls and floating-point operations per kernel method (or JS phase) */
  byKernel: Map<string, { seconds: number; calls: number; flops: number }>;
  reset(): void;
}

/** The op kind a kernel method (or a JS phase) is reported under. */
export type OpKind =
  'matmul' | 'conv' | 'attention' | 'norm' | 'elementwise' | 'optimizer' | 'sampling' | 'other';

const KIND: Record<string, OpKind> = {
  matmul: 'matmul',
  conv2dForward: 'conv',
  conv2dBackwardData: 'conv',
  conv2dBackwardWeights: 'conv',
  attentionForward: 'attention',
  attentionBackward: 'attention',
  attentionDecode: 'attention',
  kvStore: 'attention',
  rmsnormForward: 'norm',
  rmsnormBackward: 'norm',
  adamw: 'optimizer',
  sumSquares: 'optimizer',
  countNonFinite: 'optimizer',
  sampling: 'sampling',
  sampleTokens: 'sampling',
};

export function opKind(method: string): OpKind {
  // rope, swiglu, softmax, log-prob, embedding, add/mul/axpy/scale and the bf16 casts.
  return KIND[method] ?? 'elementwise';
}

// A JS phase (e.g. token sampling) timed by its caller while a profile is active.
let activeProfile: KernelProfile | null = null;

/** True while a profile is being recorded (callers skip their clock reads otherwise). */
export function profiling(): boolean {
  return activeProfile !== null;
}

/** Add seconds spent in a JS phase (not a kernel) to the active profile, if any. */
export function recordPhase(name: string, seconds: number): void {
  if (!activeProfile) return;
  const e = activeProfile.byKernel.get(name) ?? { seconds: 0, calls: 0, flops: 0 };
  e.seconds += seconds;
  e.calls++;
  activeProfile.byKernel.set(name, e);
}

/** Floating-point operations of one kernel call (products only; the rest is bandwidth-bound). */
function callFlops(method: string, args: unknown[]): number {
  if (method === 'matmul') {
    const s = args[3] as { batch: number; m: number; n: number; k: number };
    return 2 * s.batch * s.m * s.n * s.k;
  }
  if (method.startsWith('conv2d')) {
    const s = args[method === 'conv2dBackwardData' ? 3 : 4] as Conv2dSpec;
    const outH = convOutputSize(s.height, s.kernelH, s.stride, s.padding);
    const outW = convOutputSize(s.width, s.kernelW, s.stride, s.padding);
    return 2 * s.batch * outH * outW * s.outChannels * s.inChannels * s.kernelH * s.kernelW;
  }
  if (method === 'attentionForward' || method === 'attentionBackward') {
    const s = args[method === 'attentionForward' ? 3 : 4] as {
      batch: number;
      seq: number;
      heads: number;
      headDim: number;
    };
    // forward: QKᵀ and PV (2 products); backward: dP, dV, dQ, dK (4 products)
    return (
      4 * s.batch * s.heads * s.seq * s.seq * s.headDim * (method === 'attentionBackward' ? 2 : 1)
    );
  }
  if (method === 'attentionDecode') {
    // one query per (sequence, head) against lens[b] keys: q·k and p·v
    const [, , , , batch, heads, headDim, , lens] = args as [
      unknown,
      unknown,
      unknown,
      unknown,
      number,
      number,
      number,
      number,
      Int32Array,
    ];
    let keys = 0;
    for (let b = 0; b < batch; b++) keys += lens[b]!;
    return 4 * heads * headDim * keys;
  }
  return 0;
}

/** Wrap kernels so that each call is timed; returns the wrapper and its live profile. */
export function profileKernels(inner: Kernels): { kernels: Kernels; profile: KernelProfile } {
  const byKernel = new Map<string, { seconds: number; calls: number; flops: number }>();
  const profile: KernelProfile = { byKernel, reset: () => byKernel.clear() };
  const wrapped: Record<string, unknown> = { name: inner.name };
  for (const m of KERNEL_METHODS) {
    const fn = inner[m] as (...args: unknown[]) => unknown;
    wrapped[m] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = fn.apply(inner, args);
      const dt = (performance.now() - t0) / 1000;
      const e = byKernel.get(m) ?? { seconds: 0, calls: 0, flops: 0 };
      e.seconds += dt;
      e.calls++;
      e.flops += callFlops(m, args);
      byKernel.set(m, e);
      return r;
    };
  }
  activeProfile = profile;
  return { kernels: wrapped as unknown as Kernels, profile };
}

/** Stop routing JS phase timings to a profile. */
export function stopProfiling(): void {
  activeProfile = null;
}

export interface ProfileRow {
  kind: OpKind | 'framework';
  seconds: number;
  /** share of wall time */
  share: number;
  calls: number;
  /** achieved GFLOP/s of the kind's own products (matmul, attention), else undefined */
  gflops?: number;
}

export interface ProfileSummary {
  wall_s: number;
  rows: ProfileRow[];
  /** all counted FLOPs (matmul + attention products) per wall second */
  achieved_gflops: number;
  /** the dtype's measured matmul ceiling used for utilisation */
  ceiling_gflops: number;
  /** model FLOPs utilisation: achieved_gflops / ceiling_gflops */
  mfu: number;
  /** per kernel method, for a finer look */
  kernels: Record<string, { seconds: number; calls: number; gflops?: number }>;
}

/**
 * Group a profile by op kind over `wallSeconds` of work. Framework overhead is the wall time not
 * spent inside any kernel or timed phase. Every figure is divided by `per` (e.g. steps) first.
 */
export function summarizeProfile(
  p: KernelProfile,
  wallSeconds: number,
  ceilingGflops: number,
  per = 1,
): ProfileSummary {
  const byKind = new Map<OpKind, { seconds: number; calls: number; flops: number }>();
  const kernelsOut: ProfileSummary['kernels'] = {};
  let inside = 0;
  let flops = 0;
  for (const [name, e] of p.byKernel) {
    const kind = opKind(name);
    const k = byKind.get(kind) ?? { seconds: 0, calls: 0, flops: 0 };
    k.seconds += e.seconds;
    k.calls += e.calls;
    k.flops += e.flops;
    byKind.set(kind, k);
    inside += e.seconds;
    flops += e.flops;
    kernelsOut[name] = {
      seconds: round(e.seconds / per, 4),
      calls: Math.round(e.calls / per),
      ...(e.flops > 0 ? { gflops: Math.round(e.flops / e.seconds / 1e9) } : {}),
    };
  }
  const wall = wallSeconds;
  const order: OpKind[] = [
    'matmul',
    'conv',
    'attention',
    'norm',
    'elementwise',
    'optimizer',
    'sampling',
    'other',
  ];
  const rows: ProfileRow[] = [];
  for (const kind of order) {
    const e = byKind.get(kind);
    if (!e) continue;
    rows.push({
      kind,
      seconds: round(e.seconds / per, 4),
      share: round(e.seconds / wall, 3),
      calls: Math.round(e.calls / per),
      ...(e.flops > 0 ? { gflops: Math.round(e.flops / e.seconds / 1e9) } : {}),
    });
  }
  rows.push({
    kind: 'framework',
    seconds: round(Math.max(0, wall - inside) / per, 4),
    share: round(Math.max(0, wall - inside) / wall, 3),
    calls: 0,
  });
  const achieved = flops / wall / 1e9;
  return {
    wall_s: round(wall / per, 4),
    rows,
    achieved_gflops: Math.round(achieved),
    ceiling_gflops: Math.round(ceilingGflops),
    mfu: round(achieved / ceilingGflops, 3),
    kernels: kernelsOut,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
