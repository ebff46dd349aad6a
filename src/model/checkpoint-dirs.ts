/**
 * Sibling directories used while a checkpoint directory is replaced, and the recovery of an
 * interrupted replacement.
 *
 * Replacing `dir` happens as: write `.dir.tmp-<pid>-<rand>`, rename `dir` -> `.dir.old-<pid>-<rand>`,
 * rename the tmp -> `dir`, remove the old. A crash between the two renames leaves no `dir` but a
 * complete `.old` sibling; recoverCheckpoint() renames it back. Siblings left by dead processes
 * are garbage and are removed by the next save.
 */
import { lstat, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from './atomic.js';
import { isCompleteCheckpoint, readManifest } from './checkpoint-manifest.js';

export type SiblingKind = 'tmp' | 'old';

export interface Sibling {
  path: string;
  kind: SiblingKind;
  pid: number;
}

const SIBLING = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]+$/;

/** Parse a directory entry name as a tmp/old sibling of some checkpoint; undefined otherwise. */
export function parseSiblingName(
  entry: string,
): { target: string; kind: SiblingKind; pid: number } | undefined {
  const m = SIBLING.exec(entry);
  if (!m) return undefined;
  return { target: m[1]!, kind: m[2] as SiblingKind, pid: Number(m[3]) };
}

/** The tmp/old siblings of `target` currently present. */
export async function listSiblings(target: string): Promise<Sibling[]> {
  const parent = dirname(target);
  const name = basename(target);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return [];
  }
  const out: Sibling[] = [];
  for (const e of entries) {
    const p = parseSiblingName(e);
    if (p && p.target === name) out.push({ path: join(parent, e), kind: p.kind, pid: p.pid });
  }
  return out;
}

export function isPidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * If `target` is missing but a complete `.old` sibling survives from an interrupted replacement,
 * rename it back into place. Returns true if something was recovered.
 */
export async function recoverCheckpoint(target: string): Promise<boolean> {
  if (await pathExists(target)) return false;
  const candidates: { path: string; savedAt: number }[] = [];
  for (const s of await listSiblings(target)) {
    if (s.kind !== 'old' || !(await isCompleteCheckpoint(s.path))) continue;
    const m = await readManifest(s.path);
    candidates.push({ path: s.path, savedAt: Date.parse(m.savedAt) });
  }
  if (candidates.length === 0) return false;
  candidates.sort((a, b) => b.savedAt - a.savedAt);
  try {
    await rename(candidates[0]!.path, target);
  } catch (e) {
    // Someone else (another loader, or the writer finishing) put a checkpoint in place first.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw e;
  }
  await fsyncDir(dirname(target));
  return true;
}

/**
 * Remove tmp/old siblings of `target` that no running save owns: those of dead processes, and
 * those of this process that are not in `ownInProgress`. Old siblings are only garbage once
 * `target` itself exists (otherwise they are the recovery copy).
 */
export async function removeStaleSiblings(
  target: string,
  ownInProgress: ReadonlySet<string>,
): Promise<void> {
  const targetExists = await pathExists(target);
  for (const s of await listSiblings(target)) {
    if (ownInProgress.has(s.path)) continue;
    if (s.pid !== process.pid && isPidAlive(s.pid)) continue;
    if (s.kind === 'old' && !targetExists) continue;
    await rm(s.path, { recursive: true, force: true });
  }
}

/** Entries removeCheckpoint() leaves while it deletes. */
export const TRASH = /^\.trash-/;

/**
 * Delete a published checkpoint without ever leaving a half-deleted one under its own name: it
 * is first renamed to a `.trash-…` entry (one atomic step), then removed. A kill in between
 * leaves only trash, which removeCheckpointLeftovers() deletes.
 */
export async function removeCheckpoint(path: string): Promise<void> {
  const trash = join(dirname(path), `.trash-${basename(path)}-${process.pid}-${Date.now()}`);
  try {
    await rename(path, trash);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await fsyncDir(dirname(path));
  await rm(trash, { recursive: true, force: true });
}
