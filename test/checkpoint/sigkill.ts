/** Helpers to run a child node process and SIGKILL it at chosen moments (not a test file). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Victim {
  child: ChildProcess;
  /** Lines the child printed so far. */
  lines: string[];
  /** Resolves with the first line satisfying `pred` (rejects if the child exits first). */
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGKILL the child and wait until it is gone. */
  kill(): Promise<void>;
  stderr(): string;
}

/** Start `node --input-type=module -e <code>` with extra env. */
export function spawnVictim(code: string, env: Record<string, string>): Victim {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.pred(line)) waiters.splice(i, 1)[0]!.resolve(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    stderr: () => err,
    waitFor(pred, timeoutMs = 10_000) {
      const hit = lines.find(pred);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timeout waiting for child output; stderr: ${err}`)),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then(() => {
          clearTimeout(timer);
          reject(
            new Error(
              `child exited (code ${child.exitCode}) before expected output; stderr: ${err}`,
            ),
          );
        });
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
