/**
 * Durable, atomic file writes.
 *
 * A plain writeFile can leave a truncated file behind if the process is killed or the machine
 * loses power mid-write. Writing to a temp file in the same directory, fsyncing it, renaming it
 * over the target (rename is atomic within one filesystem) and fsyncing the directory (so the
 * rename itself is durable) guarantees that readers see either the old or the new content.
 */
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface WriteFileAtomicOptions {
  /** File mode for the new file (default 0o644, before umask). */
  mode?: number;
}

/** Name for a temp sibling of `path`; starts with '.' so directory listings skip it. */
export function tempSiblingPath(path: string, kind = 'tmp'): string {
  const rand = randomBytes(6).toString('hex');
  return join(dirname(path), `.${basename(path)}.${kind}-${process.pid}-${rand}`);
}

/** Error codes meaning "this platform cannot fsync a directory" rather than a real failure. */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES']);

/** fsync a directory so that renames/creations inside it survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh?.close();
  }
}

export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Create `path` (which must not exist), write `data`, fsync, close. Not atomic by itself: used
 * for files inside a directory that is renamed into place as a whole.
 */
export async function writeFileDurable(
  path: string,
  data: string | Uint8Array,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const fh = await open(path, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Atomically replace (or create) `path` with `data`. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const tmp = tempSiblingPath(path);
  try {
    await writeFileDurable(tmp, data, opts);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

/**
 * Synchronous variant, for exit paths (signal handlers, process 'exit') where awaiting is not
 * possible.
 */
/**
 * A file-system error with the file it was about (`ENOSPC: no space left on device, write`
 * names none), keeping the original's code and cause.
 */
export function fileError(path: string, what: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  const err = new Error(`${path}: ${what} (${message})`, { cause: e }) as NodeJS.ErrnoException;
  if (code) err.code = code;
  return err;
}

/** Append text to a file, with the file named in any error. */
export function appendFileChecked(path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch (e) {
    throw fileError(path, 'cannot append', e);
  }
}

export function writeFileAtomicSync(
  path: string,
  data: string | Uint8Array,
  opts: WriteFileAtomicOptions = {},
): void {
  const tmp = tempSiblingPath(path);
  try {
    const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // best effort: the original error is the one worth reporting
    }
    throw fileError(path, 'cannot write', e);
  }
  fsyncDirSync(dirname(path));
}
