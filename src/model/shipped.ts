/**
 * Models shipped in the package's `assets/` folder, addressable by name from any directory:
 * `base` (the default base of train, compare and demo) and `base-small` (the earlier,
 * patch-stem base, kept for comparison). A reference that is an existing path stays a path.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../engine/package.js';

/** The shipped base model every post-training command starts from by default. */
export const DEFAULT_BASE = 'base';

/** Names of the models in assets/ (directories holding a COMPLETE checkpoint marker). */
export function shippedModels(): string[] {
  const dir = packagePath('assets');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'COMPLETE')))
    .map((e) => e.name)
    .sort();
}

/** A model reference as a directory: an existing path as is, else a shipped model's name. */
export function resolveModelRef(ref: string): string {
  if (existsSync(ref)) return ref;
  const shipped = packagePath('assets', ref);
  if (/^[\w.-]+$/.test(ref) && existsSync(join(shipped, 'COMPLETE'))) return shipped;
  return ref;
}
