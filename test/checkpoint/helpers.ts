/** Shared helpers for the checkpoint tests (not a test file itself). */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../../src/model/checkpoint-error.js';

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-ckpt-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Float32Array from raw u32 bit patterns. */
export function fromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

export function bitsOf(a: Float32Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
}

/** Assert `fn` throws a CheckpointError whose message names `file` and matches `re`. */
export function assertCheckpointError(
  fn: () => unknown,
  file: string,
  re: RegExp,
): CheckpointError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return checkError(caught, file, re);
}

export async function assertRejectsCheckpointError(
  p: Promise<unknown>,
  file: string,
  re: RegExp,
): Promise<CheckpointError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  return checkError(caught, file, re);
}

function checkError(caught: unknown, file: string, re: RegExp): CheckpointError {
  assert.ok(
    caught !== undefined,
    `expected a CheckpointError matching ${re}, but nothing was thrown`,
  );
  assert.ok(caught instanceof CheckpointError, `expected CheckpointError, got ${String(caught)}`);
  assert.ok(caught.message.includes(file), `message should name ${file}: ${caught.message}`);
  assert.match(caught.message, re);
  return caught;
}

/** Weights whose every element is derived from `tag`, so a mix of two saves is detectable. */
export function taggedWeights(
  tag: number,
  sizes: Record<string, number[]>,
): Record<string, { shape: number[]; data: Float32Array }> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of Object.entries(sizes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = tag + (i % 7) * 0.25;
    out[name] = { shape, data };
  }
  return out;
}
