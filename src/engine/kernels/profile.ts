/**
 * A kernel set that times every call of another one: the basis of `visurf bench --profile`.
 * Time not spent inside kernels is framework overhead (JS loops, allocation, graph bookkeeping).
 */
import type { Kernels } from './types.js';
import { KERNEL_METHODS } from './native.js';

export interface KernelProfile {
  /** seconds and calls per kernel method */
  byKernel: Map<string, { seconds: number; calls: number; flops: number }>;
  reset(): void;
}

/** Wrap kernels so that each call is timed; returns the wrapper and its live profile. */
export function profileKernels(inner: Kernels): { kernels: Kernels; profile: KernelProfile } {
  const byKernel = new Map<string, { seconds: number; calls: number; flops: number }>();
  const wrapped: Record<string, unknown> = { name: inner.name };
  for (const m of KERNEL_METHODS) {
    const fn = inner[m] as (...args: unknown[]) => unknown;
    wrapped[m] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = fn.apply(inner, args);
      const dt = (performance.now() - t0) / 1000;
      let key: string = m;
      let flops = 0;
      if (m === 'matmul') {
        const s = args[3] as { batch: number; m: number; n: number; k: number };
        flops = 2 * s.batch * s.m * s.n * s.k;
      } else if (m === 'attentionForward' || m === 'attentionBackward') {
        const s = args[m === 'attentionForward' ? 3 : 4] as { batch: number; seq: number; heads: number; headDim: number };
        flops = 4 * s.batch * s.heads * s.seq * s.seq * s.headDim * (m === 'attentionBackward' ? 2 : 1);
        key = m;
      }
      const e = byKernel.get(key) ?? { seconds: 0, calls: 0, flops: 0 };
      e.seconds += dt;
      e.calls++;
      e.flops += flops;
      byKernel.set(key, e);
      return r;
    };
  }
  return { kernels: wrapped as unknown as Kernels, profile: { byKernel, reset: () => byKernel.clear() } };
}
