/**
 * Loads the N-API addon (build/Release/visurf_native.node) and exposes it as Kernels.
 * The addon's functions take exactly the Kernels signatures, so this is a thin checked wrapper.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package.js';
import type { Kernels } from './types.js';
import { referenceKernels } from './reference.js';

/**
 * The kernel functions, taken from the reference implementation — which the compiler holds to
 * the whole Kernels interface, so this list cannot miss one or name one that is not there.
 */
export const KERNEL_METHODS = Object.keys(referenceKernels).filter(
  (k): k is Exclude<keyof Kernels, 'name'> => k !== 'name',
);

export interface NativeAddon extends Omit<Kernels, 'name'> {
  info(): { ompThreads: number };
  setThreads(n: number): void;
  /** the FLOPs below which products run on one thread (src/native/threads.h); < 0: the default */
  setSerialFlops(flops: number): void;
  /** how to treat the cores (src/native/threads.h): -1 probe (default), 0 idle, 1 shared */
  setCoresShared(mode: -1 | 0 | 1): void;
  /** the blocked AVX-512 attention kernels for head dims 32/64 (default true), or the row kernels */
  setBlockedAttention(on: boolean): void;
}

export function addonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'visurf_native.node');
}

/** Load the addon or throw an Error that says what is missing and how to fix it. */
export function loadNativeAddon(): NativeAddon {
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(
      `visurf: the native addon is missing (${path}). Build it with \`make build\` ` +
        '(needs Debian libdnnl-dev, g++ and python3), or set VISURF_NATIVE=0 to run on the ' +
        'slow TypeScript reference kernels.',
    );
  }
  const require = createRequire(import.meta.url);
  let addon: NativeAddon;
  try {
    addon = require(path) as NativeAddon;
  } catch (err) {
    throw new Error(
      `visurf: the native addon at ${path} failed to load: ${(err as Error).message}. ` +
        'Rebuild with `make build`, or set VISURF_NATIVE=0 for the reference kernels.',
    );
  }
  const missing = KERNEL_METHODS.filter((m) => typeof addon[m] !== 'function');
  if (missing.length > 0) {
    throw new Error(
      `visurf: the native addon at ${path} lacks ${missing.join(', ')}; rebuild with \`make build\`.`,
    );
  }
  return addon;
}

export function nativeKernels(addon: NativeAddon): Kernels {
  const k: Record<string, unknown> = { name: 'native' };
  for (const m of KERNEL_METHODS) k[m] = addon[m];
  return k as unknown as Kernels;
}
