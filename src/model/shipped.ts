/**
 * Models shipped in the package's `assets/` folder, addressable by name from any directory:
 * `base` (the default base of train, compare and demo) and `base-small` (the earlier,
 * patch-stem base, kept for comparison). A reference that is an existing path stays a path.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../engine/package.js';
import { latestCheckpoint } from './checkpoint.js';
import { CheckpointError } from './checkpoint-error.js';

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

/**
 * The checkpoint directory a model reference names: a checkpoint directory itself, a run
 * directory's latest complete checkpoint, or a shipped model; a reference that names none of
 * these is an error listing what is available.
 */
export async function resolveCheckpointDir(ref: string): Promise<string> {
  const path = resolveModelRef(ref);
  if (existsSync(join(path, 'COMPLETE'))) return path;
  if (existsSync(join(path, 'checkpoints'))) {
    const latest = await latestCheckpoint(path);
    if (latest) return latest.path;
    throw new CheckpointError(path, 'a run directory with no complete checkpoint yet');
  }
  const available = `a checkpoint directory, a run directory, or a shipped model (${shippedModels().join(', ') || 'none'})`;
  if (!existsSync(path)) throw new CheckpointError(path, `not found: give ${available}`);
  if (!statSync(path).isDirectory()) {
    // e.g. `eval my.parquet`: a dataset where the model goes
    const data = /\.(parquet|jsonl)$/i.test(path)
      ? `; to evaluate a model on this dataset: visurf eval MODEL --data ${path}`
      : '';
    throw new CheckpointError(path, `a file, not a model: give ${available}${data}`);
  }
  return path; // a directory of another kind: loading it says what is wrong
}
