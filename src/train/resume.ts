/**
 * Resuming a run: the newest checkpoint that loads (damaged ones reported and passed over), and
 * how the config differs from the one the run started with.
 */
import { runFile } from './run-files.js';
import { existsSync, readFileSync } from 'node:fs';
import {
  CheckpointError,
  listCheckpoints,
  loadModel,
  type CheckpointRef,
  type LoadedModel,
} from '../model/index.js';

/** Dotted keys whose values differ between two JSON-like values (arrays compared whole). */
function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)'];
}

/**
 * How `cfg` differs from the config its run directory was started with (`config.json`): each
 * changed dotted key with its old and new value (`runDir` ignored), `[]` when they agree, or
 * null when there is no record. An unreadable record counts as one change.
 */
export function configChanges(cfg: object & { runDir: string }): string[] | null {
  const path = runFile(cfg.runDir, 'config');
  if (!existsSync(path)) return null;
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return [`${path} (unreadable)`];
  }
  const current = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
  const keys = changedKeys({ ...(saved as object), runDir: null }, { ...current, runDir: null });
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  const get = (o: unknown, k: string) =>
    k
      .split('.')
      .reduce<unknown>(
        (x, p) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[p] : undefined),
        o,
      );
  return keys.map((k) => `${k} ${show(get(saved, k))} -> ${show(get(current, k))}`);
}

/** The changes of configChanges() as one line: at most 8, then a count. */
export function describeChanges(changes: readonly string[]): string {
  return `${changes.slice(0, 8).join(', ')}${changes.length > 8 ? `, and ${changes.length - 8} more` : ''}`;
}

/**
 * On resume: how the config differs from the one the run started with, as one warning line, or
 * null when they agree (or there is no record). A changed config is allowed (e.g. more steps)
 * but the run then no longer matches an uninterrupted one.
 */
export function resumeConfigWarning(cfg: object & { runDir: string }): string | null {
  const changes = configChanges(cfg);
  if (!changes || changes.length === 0) return null;
  const path = runFile(cfg.runDir, 'config');
  if (changes[0]!.endsWith('(unreadable)'))
    return `${path} is unreadable; cannot check that the resumed config matches the original`;
  return `resuming with a config that differs from ${path}: ${describeChanges(changes)}; the run will not match an uninterrupted one`;
}

/**
 * The newest checkpoint of a run that loads completely, for resuming. A checkpoint whose files
 * fail their recorded SHA-256 or do not parse (disk corruption, a hand edit) is passed over with a
 * message, and the one before it is used: at most `checkpoint.every` steps are redone, and the
 * log truncation on resume keeps the logs consistent. When every checkpoint is damaged the newest
 * one's CheckpointError is thrown (never a silent fresh start over an existing run).
 */
export async function loadLatestGood(
  runDir: string,
  say: (text: string) => void,
): Promise<{ ref: CheckpointRef; loaded: LoadedModel } | undefined> {
  const all = await listCheckpoints(runDir, { includeDamaged: true });
  let newestError: unknown = null;
  for (let i = all.length - 1; i >= 0; i--) {
    const ref = all[i]!;
    try {
      return { ref, loaded: await loadModel(ref.path) };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      newestError ??= e;
      say(`${ref.path} cannot be loaded (${e.message}); trying the checkpoint before it`);
    }
  }
  if (newestError) throw newestError;
  return undefined;
}
