/**
 * Kernel selection. The native addon is used unless VISURF_NATIVE=0, in which case the slow but
 * correct TypeScript reference kernels run and a notice says so once. A missing or broken addon
 * is a clear error (naming the path and the fix), never a silent slowdown.
 */
import type { Kernels } from './types.js';
import { referenceKernels } from './reference.js';
import { loadNativeAddon, nativeKernels, type NativeAddon } from './native.js';

export type {
  Kernels,
  MatmulSpec,
  AttentionSpec,
  MatmulDtype,
  Conv2dSpec,
  KvCacheArray,
} from './types.js';
export { ATTENTION_ROW_STATS, convOutputSize } from './types.js';
export { referenceKernels } from './reference.js';
export * from './profile.js';

let active: Kernels | null = null;
let addon: NativeAddon | null = null;
let fallbackReason: string | null = null;

export function nativeRequested(): boolean {
  return process.env.VISURF_NATIVE !== '0';
}

/** The native addon, or null when disabled or unavailable. */
export function getAddon(): NativeAddon | null {
  kernels();
  return addon;
}

/** Why the reference kernels are in use, or null if native kernels are active. */
export function kernelFallbackReason(): string | null {
  kernels();
  return fallbackReason;
}

/** The active kernels (resolved once per process). */
export function kernels(): Kernels {
  if (active) return active;
  if (!nativeRequested()) {
    fallbackReason = 'VISURF_NATIVE=0';
    if (!process.env.VISURF_QUIET) {
      process.stderr.write(
        'visurf: VISURF_NATIVE=0: running on the TypeScript reference kernels (correct, much slower).\n',
      );
    }
    active = referenceKernels;
    return active;
  }
  addon = loadNativeAddon();
  active = nativeKernels(addon);
  return active;
}

/** Use a specific kernel set (tests compare implementations this way). */
export function setKernels(k: Kernels): void {
  active = k;
}
