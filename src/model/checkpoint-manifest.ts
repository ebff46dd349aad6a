/**
 * The COMPLETE marker of a checkpoint directory.
 *
 * It is written last, after every other file has been written and fsynced, so its presence
 * means the directory is whole. It also lists every file with its size and SHA-256, which lets
 * a loader detect files truncated or altered after the fact (e.g. by an interrupted copy).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, describeError } from './checkpoint-error.js';
import { parseJsonBytes } from './checkpoint-json.js';
import type { StorageDtype } from './safetensors-dtype.js';

export const COMPLETE_MARKER = 'COMPLETE';
export const MANIFEST_FORMAT = 'visurf-checkpoint';
export const MANIFEST_VERSION = 1;

export interface ManifestFile {
  bytes: number;
  sha256: string;
}

export interface CheckpointManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  /** ISO time of the save; also orders competing recoverable copies. */
  savedAt: string;
  storageDtype: StorageDtype;
  files: Record<string, ManifestFile>;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function describeFile(data: Uint8Array): ManifestFile {
  return { bytes: data.byteLength, sha256: sha256Hex(data) };
}

/** File names a manifest may list: plain names inside the directory, nothing else. */
const SAFE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Validate a parsed COMPLETE marker. */
export function validateManifest(value: unknown, source: string): CheckpointManifest {
  const fail = (problem: string): never => {
    throw new CheckpointError(source, problem);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('marker is not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT)
    fail(`marker format is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
  if (m.version !== MANIFEST_VERSION) {
    fail(
      `marker version ${JSON.stringify(m.version)} is not supported (this visurf reads version ${MANIFEST_VERSION})`,
    );
  }
  if (typeof m.savedAt !== 'string' || Number.isNaN(Date.parse(m.savedAt)))
    fail('marker savedAt is not a date');
  if (m.storageDtype !== 'f32' && m.storageDtype !== 'bf16')
    fail(`marker storageDtype ${JSON.stringify(m.storageDtype)} is not f32 or bf16`);
  const files = m.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files))
    fail('marker files is not an object');
  for (const [name, f] of Object.entries(files as Record<string, unknown>)) {
    if (!SAFE_FILE_NAME.test(name) || name === COMPLETE_MARKER)
      fail(`marker lists an invalid file name ${JSON.stringify(name)}`);
    const ok =
      typeof f === 'object' &&
      f !== null &&
      Number.isSafeInteger((f as ManifestFile).bytes) &&
      (f as ManifestFile).bytes >= 0 &&
      typeof (f as ManifestFile).sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test((f as ManifestFile).sha256);
    if (!ok) fail(`marker entry for ${name} must be {bytes, sha256}`);
  }
  return m as unknown as CheckpointManifest;
}

/** Read and validate `dir/COMPLETE`. A missing marker means an incomplete checkpoint. */
export async function readManifest(dir: string): Promise<CheckpointManifest> {
  const path = join(dir, COMPLETE_MARKER);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CheckpointError(
        dir,
        `incomplete checkpoint: no ${COMPLETE_MARKER} marker (the save was interrupted, or this is not a visurf checkpoint)`,
      );
    }
    throw new CheckpointError(path, `cannot read (${describeError(e)})`, { cause: e });
  }
  return validateManifest(parseJsonBytes(bytes, path), path);
}

/**
 * Cheap completeness check for listings: the marker is valid and every file it lists exists
 * with the recorded size. (Checksums are verified by loadCheckpoint.)
 */
export async function isCompleteCheckpoint(dir: string): Promise<boolean> {
  try {
    const m = await readManifest(dir);
    for (const [name, f] of Object.entries(m.files)) {
      const st = await stat(join(dir, name));
      if (!st.isFile() || st.size !== f.bytes) return false;
    }
    return true;
  } catch {
    return false;
  }
}
