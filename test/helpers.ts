/** Shared test utilities: seeded random data, tolerance comparisons, the raw native addon. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { addonPath, type NativeAddon } from '../src/engine/kernels/native.js';
import { Rng } from '../src/engine/random.js';

/** A seeded uniform [0, 1) stream so every test input is reproducible. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** n uniform values in [-scale, scale). */
export function randArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** Largest |a-b| / (atol/rtol scaled) violation; asserts allclose like numpy. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  what = 'values',
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** The addon loaded directly (without the full-interface check), or null if not built. */
export function rawAddon(): NativeAddon | null {
  const path = addonPath();
  if (!existsSync(path)) return null;
  return createRequire(import.meta.url)(path) as NativeAddon;
}

/** n images of uniform noise, size x size RGB, from one seed. */
export function noiseImages(n: number, seed: number, size: number) {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => ({
    width: size,
    height: size,
    data: Uint8Array.from({ length: size * size * 3 }, () => r.below(256)),
  }));
}
