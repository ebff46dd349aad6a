/**
 * One trainer per run directory. Two processes training into the same directory would interleave
 * their steps in one metrics.jsonl and overwrite each other's checkpoints, so a run takes an
 * exclusive lock file (`<runDir>/.lock`, created with O_EXCL) naming its pid and host, and
 * removes it when it ends. A lock left by a process that no longer runs on this host (kill -9,
 * power loss) is stale and taken over with a message; a lock from another host cannot be
 * checked and is refused with instructions.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isPidAlive } from '../model/index.js';

export class RunLockedError extends Error {
  override name = 'RunLockedError';
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function readLock(path: string): LockInfo | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    return typeof o.pid === 'number' && typeof o.host === 'string'
      ? { pid: o.pid, host: o.host, started: String(o.started ?? '?') }
      : null;
  } catch {
    return null; // torn or empty: the writer died between create and write
  }
}

/** Take the run directory's lock; returns the function that releases it. */
export function lockRunDir(runDir: string, say: (text: string) => void): () => void {
  const path = join(runDir, '.lock');
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (readLock(path)?.pid === me.pid) rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const other = readLock(path);
    if (other && other.host !== me.host)
      throw new RunLockedError(
        `${runDir} is locked by pid ${other.pid} on host ${other.host} (since ${other.started}); ` +
          `if no trainer runs there any more, delete ${path}`,
      );
    if (other && isPidAlive(other.pid))
      throw new RunLockedError(
        `${runDir} is in use by another trainer (pid ${other.pid}${other.pid === process.pid ? ', this process' : ''}, since ${other.started}); ` +
          'wait for it to finish or use another --run-dir',
      );
    say(
      other
        ? `${path}: stale lock of pid ${other.pid} (no longer running); taking it over`
        : `${path}: unreadable lock file (a trainer died while taking it); taking it over`,
    );
    rmSync(path, { force: true });
  }
  throw new RunLockedError(`${runDir}: could not take the run lock ${path}`);
}
