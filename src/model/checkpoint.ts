/**
 * Checkpoint directories: weights, config, tokenizer, optimizer and trainer state, saved as a
 * unit and replaced atomically.
 *
 *   <dir>/model.safetensors       weights (f32 or bf16)
 *   <dir>/config.json             model config
 *   <dir>/tokenizer.json          optional
 *   <dir>/optimizer.safetensors   optional, always f32: m.<param>, v.<param> (and w.<param>, the
 *                                 exact weights, when model.safetensors is bf16); step in metadata
 *   <dir>/trainer_state.json      optional: rng state, data cursor, step, ...
 *   <dir>/COMPLETE                manifest (sizes + sha256), written last
 *
 * Everything is written into a hidden sibling temp directory, fsynced, marked COMPLETE and then
 * renamed into place, so that at every instant the name holds either the complete old or the
 * complete new checkpoint (see checkpoint-dirs.ts for the replacement protocol).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncDir, writeFileDurable } from './atomic.js';
import {
  TRASH,
  parseSiblingName,
  pathExists,
  recoverCheckpoint,
  removeStaleSiblings,
} from './checkpoint-dirs.js';
import { CheckpointError, describeError } from './checkpoint-error.js';
import { parseJsonBytes, stringifyJson } from './checkpoint-json.js';
import {
  COMPLETE_MARKER,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  isCompleteCheckpoint,
  readManifest,
  sha256Hex,
  type CheckpointManifest,
  type ManifestFile,
} from './checkpoint-manifest.js';
import {
  readSafetensors,
  writeSafetensors,
  type LoadedTensor,
  type TensorInput,
} from './safetensors.js';
import type { StorageDtype } from './safetensors-dtype.js';

export { CheckpointError } from './checkpoint-error.js';
export { recoverCheckpoint, removeCheckpoint } from './checkpoint-dirs.js';
export { isCompleteCheckpoint, type CheckpointManifest } from './checkpoint-manifest.js';

export const CHECKPOINT_FILES = {
  model: 'model.safetensors',
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  optimizer: 'optimizer.safetensors',
  trainerState: 'trainer_state.json',
  complete: COMPLETE_MARKER,
} as const;

export interface OptimizerState<T extends TensorInput = TensorInput> {
  step: number;
  m: Record<string, T>;
  v: Record<string, T>;
  /**
   * f32 weights, written beside the moments when model.safetensors is stored as bf16, so a run
   * resumed from a bf16 checkpoint continues from the exact weights
   */
  master?: Record<string, T>;
}

export interface Checkpoint {
  weights: Record<string, TensorInput>;
  config: unknown;
  tokenizer?: unknown;
  optimizer?: OptimizerState;
  trainerState?: unknown;
}

export interface LoadedCheckpoint {
  weights: Record<string, LoadedTensor>;
  config: unknown;
  tokenizer?: unknown;
  optimizer?: OptimizerState<LoadedTensor>;
  trainerState?: unknown;
  /** Storage dtype of model.safetensors. */
  dtype: StorageDtype;
  manifest: CheckpointManifest;
}

/** Points of saveCheckpoint at which onStage is called (after the named step is done). */
export const SAVE_STAGES = [
  'tmp-created',
  'model-written',
  'config-written',
  'tokenizer-written',
  'optimizer-written',
  'trainer-state-written',
  'files-synced',
  'marker-written',
  'old-moved-aside',
  'new-renamed',
  'old-removed',
] as const;
export type SaveStage = (typeof SAVE_STAGES)[number];

export interface SaveCheckpointOptions {
  dtype: StorageDtype;
  /**
   * Test hook, called after each stage. If it throws, saveCheckpoint stops right there and
   * rethrows WITHOUT cleaning up, exactly as if the process had died at that point.
   */
  onStage?: (stage: SaveStage) => void;
}

export interface LoadCheckpointOptions {
  /** Verify each file's SHA-256 against the COMPLETE manifest (default true). */
  verifyChecksums?: boolean;
}

export interface CheckpointRef {
  step: number;
  path: string;
}

/** Temp dirs of saves running in this process; never garbage-collected. */
const inProgress = new Set<string>();

/** Wraps an error thrown by onStage so that the catch block can tell it from a real failure. */
class SimulatedCrash {
  constructor(readonly error: unknown) {}
}

// ---------------------------------------------------------------------------------------------
// Consistency checks shared by save and load

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Optimizer moments must exist for exactly the weights, with the same shapes. */
function checkOptimizerMatchesWeights(
  weights: Record<string, { shape: readonly number[] }>,
  opt: OptimizerState<{ shape: readonly number[]; data: Float32Array }>,
  source: string,
): void {
  const fail = (problem: string): never => {
    throw new CheckpointError(source, problem);
  };
  if (!Number.isSafeInteger(opt.step) || opt.step < 0)
    fail(`optimizer step ${opt.step} is not a non-negative integer`);
  for (const [which, moments] of [
    ['m', opt.m],
    ['v', opt.v],
  ] as const) {
    for (const [name, w] of Object.entries(weights)) {
      const t = Object.prototype.hasOwnProperty.call(moments, name) ? moments[name] : undefined;
      if (!t) fail(`optimizer has no ${which}.${name} for weight "${name}"`);
      if (!sameShape(t!.shape, w.shape)) {
        fail(
          `optimizer ${which}.${name} has shape ${JSON.stringify(t!.shape)} but weight "${name}" has ${JSON.stringify(w.shape)}`,
        );
      }
    }
    for (const name of Object.keys(moments)) {
      if (!Object.prototype.hasOwnProperty.call(weights, name))
        fail(`optimizer has ${which}.${name} but there is no weight "${name}"`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Save

/** Write a checkpoint directory atomically, replacing any previous checkpoint at `dir`. */
export async function saveCheckpoint(
  dir: string,
  ckpt: Checkpoint,
  opts: SaveCheckpointOptions,
): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  const name = basename(target);
  if (opts.dtype !== 'f32' && opts.dtype !== 'bf16') {
    throw new CheckpointError(
      target,
      `cannot save with dtype ${JSON.stringify(opts.dtype)}; use 'f32' or 'bf16'`,
    );
  }
  if (ckpt.optimizer)
    checkOptimizerMatchesWeights(
      ckpt.weights,
      ckpt.optimizer,
      join(target, CHECKPOINT_FILES.optimizer),
    );

  await mkdir(parent, { recursive: true });
  // Finish an earlier interrupted replacement first, so "target exists" below means what it says.
  await recoverCheckpoint(target);
  await assertReplaceable(target);

  const stage = (s: SaveStage) => {
    try {
      opts.onStage?.(s);
    } catch (e) {
      throw new SimulatedCrash(e);
    }
  };

  const tmp = join(parent, `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const olds: string[] = [];
  let renamed = false;
  inProgress.add(tmp);
  try {
    await mkdir(tmp);
    stage('tmp-created');

    const files: Record<string, ManifestFile> = {};
    const put = async (file: string, data: Uint8Array | string) => {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      await writeFileDurable(join(tmp, file), bytes); // each file fsynced before close
      files[file] = { bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
    };
    const F = CHECKPOINT_FILES;

    await put(
      F.model,
      writeSafetensors(ckpt.weights, {
        dtype: opts.dtype,
        metadata: { format: 'pt' }, // what Hugging Face loaders expect to find
        source: join(target, F.model),
      }),
    );
    stage('model-written');
    await put(F.config, stringifyJson(ckpt.config, join(target, F.config)));
    stage('config-written');
    if (ckpt.tokenizer !== undefined) {
      await put(F.tokenizer, stringifyJson(ckpt.tokenizer, join(target, F.tokenizer)));
      stage('tokenizer-written');
    }
    if (ckpt.optimizer) {
      const tensors: Record<string, TensorInput> = {};
      for (const [k, t] of Object.entries(ckpt.optimizer.m)) tensors[`m.${k}`] = t;
      for (const [k, t] of Object.entries(ckpt.optimizer.v)) tensors[`v.${k}`] = t;
      // bf16 model weights are rounded: keep the exact ones for resuming
      if (opts.dtype === 'bf16')
        for (const [k, t] of Object.entries(ckpt.weights)) tensors[`w.${k}`] = t;
      await put(
        F.optimizer,
        writeSafetensors(tensors, {
          dtype: 'f32', // moments are never stored lossy: bf16 v would wreck resumed steps
          metadata: { step: String(ckpt.optimizer.step), optimizer: 'adam' },
          source: join(target, F.optimizer),
        }),
      );
      stage('optimizer-written');
    }
    if (ckpt.trainerState !== undefined) {
      await put(F.trainerState, stringifyJson(ckpt.trainerState, join(target, F.trainerState)));
      stage('trainer-state-written');
    }
    await fsyncDir(tmp);
    stage('files-synced');

    const manifest: CheckpointManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      savedAt: new Date().toISOString(),
      storageDtype: opts.dtype,
      files,
    };
    await writeFileDurable(join(tmp, COMPLETE_MARKER), `${JSON.stringify(manifest, null, 2)}\n`);
    await fsyncDir(tmp);
    stage('marker-written');

    // Swap. A concurrent loader may recover an old copy between our two renames; then the
    // second rename fails with ENOTEMPTY and we simply move that one aside too.
    for (let attempt = 0; ; attempt++) {
      if (await pathExists(target)) {
        const old = join(parent, `.${name}.old-${process.pid}-${randomBytes(6).toString('hex')}`);
        await rename(target, old);
        olds.push(old);
        stage('old-moved-aside');
      }
      try {
        await rename(tmp, target);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (attempt >= 3 || (code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw e;
      }
    }
    renamed = true;
    inProgress.delete(tmp);
    await fsyncDir(parent);
    stage('new-renamed');

    for (const old of olds) await rm(old, { recursive: true, force: true });
    if (olds.length > 0) stage('old-removed');
  } catch (e) {
    if (e instanceof SimulatedCrash) throw e.error; // leave the debris a real crash would leave
    // A real failure (disk full, permissions...): put the old checkpoint back, drop the temp.
    if (!renamed) {
      if (olds.length > 0 && !(await pathExists(target)))
        await rename(olds[olds.length - 1]!, target).catch(() => undefined);
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(target, `saving checkpoint failed: ${describeError(e)}`, {
      cause: e,
    });
  } finally {
    inProgress.delete(tmp);
  }
  // Garbage from earlier crashed saves of this checkpoint (dead processes only).
  await removeStaleSiblings(target, inProgress);
}

/**
 * Refuse to replace something that is not a checkpoint (a typo in a path must not delete a
 * user's directory): the target may be absent, empty, or a (possibly incomplete) checkpoint.
 */
async function assertReplaceable(target: string): Promise<void> {
  let st;
  try {
    st = await stat(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isDirectory())
    throw new CheckpointError(target, 'exists and is not a directory; refusing to replace it');
  const entries = await readdir(target);
  const ours = new Set<string>(Object.values(CHECKPOINT_FILES));
  if (entries.length > 0 && !entries.some((e) => ours.has(e))) {
    throw new CheckpointError(
      target,
      'exists and does not look like a checkpoint; refusing to replace it',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Load

/** Load and fully validate a checkpoint directory. */
export async function loadCheckpoint(
  dir: string,
  opts: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const target = resolve(dir);
  if (!(await pathExists(target)) && !(await recoverCheckpoint(target))) {
    throw new CheckpointError(target, 'checkpoint directory not found');
  }
  const manifest = await readManifest(target);
  const F = CHECKPOINT_FILES;
  for (const required of [F.model, F.config]) {
    if (!manifest.files[required])
      throw new CheckpointError(
        join(target, COMPLETE_MARKER),
        `does not list required file ${required}`,
      );
  }

  const read = async (file: string): Promise<Buffer | undefined> => {
    const info = manifest.files[file];
    if (!info) return undefined;
    const path = join(target, file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CheckpointError(
        path,
        code === 'ENOENT'
          ? 'file missing (listed in COMPLETE)'
          : `cannot read (${describeError(e)})`,
        { cause: e },
      );
    }
    if (bytes.byteLength !== info.bytes) {
      throw new CheckpointError(
        path,
        `size is ${bytes.byteLength} bytes but ${info.bytes} were written (truncated or modified)`,
      );
    }
    if (opts.verifyChecksums !== false && sha256Hex(bytes) !== info.sha256) {
      throw new CheckpointError(
        path,
        'SHA-256 does not match the one recorded when it was written (file corrupted or modified)',
      );
    }
    return bytes;
  };

  const modelPath = join(target, F.model);
  const model = readSafetensors((await read(F.model))!, modelPath);
  const expectDtype = manifest.storageDtype === 'f32' ? 'F32' : 'BF16';
  for (const [k, t] of Object.entries(model.tensors)) {
    if (t.dtype !== expectDtype) {
      throw new CheckpointError(
        modelPath,
        `tensor "${k}" is ${t.dtype} but the checkpoint says ${expectDtype}`,
      );
    }
  }

  const out: LoadedCheckpoint = {
    weights: model.tensors,
    config: parseJsonBytes((await read(F.config))!, join(target, F.config)),
    dtype: manifest.storageDtype,
    manifest,
  };
  const tok = await read(F.tokenizer);
  if (tok) out.tokenizer = parseJsonBytes(tok, join(target, F.tokenizer));
  const optBytes = await read(F.optimizer);
  if (optBytes) out.optimizer = parseOptimizer(optBytes, join(target, F.optimizer), model.tensors);
  const ts = await read(F.trainerState);
  if (ts) out.trainerState = parseJsonBytes(ts, join(target, F.trainerState));
  return out;
}

function parseOptimizer(
  bytes: Buffer,
  source: string,
  weights: Record<string, LoadedTensor>,
): OptimizerState<LoadedTensor> {
  const { tensors, metadata } = readSafetensors(bytes, source);
  const stepText = metadata.step;
  if (
    stepText === undefined ||
    !/^\d{1,16}$/.test(stepText) ||
    !Number.isSafeInteger(Number(stepText))
  ) {
    throw new CheckpointError(
      source,
      `metadata "step" must be a non-negative integer, got ${JSON.stringify(stepText)}`,
    );
  }
  const m: Record<string, LoadedTensor> = {};
  const v: Record<string, LoadedTensor> = {};
  const w: Record<string, LoadedTensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    const into = k.startsWith('m.')
      ? m
      : k.startsWith('v.')
        ? v
        : k.startsWith('w.')
          ? w
          : undefined;
    if (!into)
      throw new CheckpointError(
        source,
        `unexpected tensor "${k}" (expected m.<param>, v.<param> or w.<param>)`,
      );
    Object.defineProperty(into, k.slice(2), {
      value: t,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const opt: OptimizerState<LoadedTensor> = { step: Number(stepText), m, v };
  checkOptimizerMatchesWeights(weights, opt, source);
  if (Object.keys(w).length > 0) {
    // master weights: exactly the model's tensors, same shapes
    checkOptimizerMatchesWeights(weights, { step: opt.step, m: w, v: w }, source);
    opt.master = w;
  }
  return opt;
}

// ---------------------------------------------------------------------------------------------
// Run directory layout: <runDir>/checkpoints/step-000120/

const STEP_DIR = /^step-(\d+)$/;

export function checkpointDirForStep(runDir: string, step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`invalid step ${step}`);
  return join(runDir, 'checkpoints', `step-${String(step).padStart(6, '0')}`);
}

/**
 * Complete checkpoints of a run, oldest first. Temp dirs and directories without a valid
 * COMPLETE marker are ignored; an interrupted replacement is recovered first. With
 * `includeDamaged`, every published step directory is listed, complete or not (a resume tries
 * them newest first and reports each damaged one instead of silently skipping it).
 */
export async function listCheckpoints(
  runDir: string,
  opts: { includeDamaged?: boolean } = {},
): Promise<CheckpointRef[]> {
  const root = join(resolve(runDir), 'checkpoints');
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CheckpointError(root, `cannot list checkpoints (${describeError(e)})`, { cause: e });
  }
  const present = new Set(entries);
  for (const e of entries) {
    const m = /^\.(step-\d+)\.old-/.exec(e);
    if (m && !present.has(m[1]!) && (await recoverCheckpoint(join(root, m[1]!))))
      present.add(m[1]!);
  }
  const out: CheckpointRef[] = [];
  for (const e of present) {
    const m = STEP_DIR.exec(e);
    if (!m) continue;
    const step = Number(m[1]);
    const path = join(root, e);
    // A published step directory is complete by construction (it is renamed into place after
    // its files are written and checked); one that no longer is has been damaged since.
    if (Number.isSafeInteger(step) && (opts.includeDamaged || (await isCompleteCheckpoint(path))))
      out.push({ step, path });
  }
  return out.sort((a, b) => a.step - b.step || a.path.localeCompare(b.path));
}

/** The complete checkpoint with the highest step, or undefined if there is none. */
export async function latestCheckpoint(runDir: string): Promise<CheckpointRef | undefined> {
  const all = await listCheckpoints(runDir);
  return all[all.length - 1];
}

/**
 * Remove what interrupted saves and prunes left in a run's checkpoints folder: trash entries and
 * temporary directories of saves that are not running (only call while holding the run's lock,
 * so no other process is saving there). `.old` copies are kept: they may be the only complete
 * copy of a checkpoint (listCheckpoints recovers them). Returns the entries removed.
 */
export async function removeCheckpointLeftovers(checkpointsDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(checkpointsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const sib = parseSiblingName(e);
    const path = join(checkpointsDir, e);
    if (TRASH.test(e) || (sib?.kind === 'tmp' && !inProgress.has(path))) {
      await rm(path, { recursive: true, force: true });
      removed.push(e);
    }
  }
  return removed;
}
