/**
 * Test-only fault injection for the training loop, so that the non-finite handling (skip / stop /
 * stop after `maxNonFiniteSteps`) can be exercised on a real run, in-process or through the CLI.
 *
 * `VISURF_TEST_INJECT_NAN` lists the steps whose gradients are poisoned: `3`, `2,5`, `1-10`, or a
 * mix (`1,4-6`). For such a step the optimizer's next `step()` first writes NaN into one gradient
 * value, exactly as a numerical blow-up in the backward pass would, and then runs as usual: the
 * real detection path (AdamW's non-finite gradient-norm check, `updatePolicy`'s `skipped`, the
 * trainer's streak and `onNonFinite` policy) handles it. Unset (the normal case) it does nothing.
 *
 * This is documented in docs/RELIABILITY.md; it is not a user-facing knob.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdamW, BufferArena } from '../engine/index.js';
import { DatasetError, readDataset, type ReadResult, type RowError } from '../data/index.js';
import { referenceResponse, rewardForSample, type TaskName } from '../tasks/index.js';
import {
  CheckpointError,
  type Tokenizer,
  listCheckpoints,
  loadModel,
  renderPrompt,
  type CheckpointRef,
  type LoadedModel,
} from '../model/index.js';

export const INJECT_NAN_ENV = 'VISURF_TEST_INJECT_NAN';

/** The set of steps named by a spec like `3`, `2,5`, `1-10`; throws on anything else. */
export function parseStepSpec(spec: string): Set<number> {
  const out = new Set<number>();
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`${INJECT_NAN_ENV}: "${part}" is not a step or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 1_000_000) throw new Error(`${INJECT_NAN_ENV}: bad range "${part}"`);
    for (let s = a; s <= b; s++) out.add(s);
  }
  return out;
}

/**
 * If the environment asks for it, arm a one-shot NaN in the gradients of `step`'s update: the
 * next `opt.step()` poisons a gradient, restores the original method and proceeds.
 * Returns whether a fault was armed.
 */
export function armTestFault(
  step: number,
  opt: AdamW,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const spec = env[INJECT_NAN_ENV];
  if (!spec || !parseStepSpec(spec).has(step)) return false;
  const original = opt.step;
  opt.step = function poisoned(this: AdamW, lr?: number) {
    opt.step = original; // one shot: later epochs / steps are untouched
    const p = opt.params[0];
    if (p) p.gradBuffer()[0] = Number.NaN;
    return original.call(opt, lr);
  };
  return true;
}

/**
 * Read a training dataset and check, before training starts, that every row is usable: on top of
 * readDataset's per-row checks (columns, types, image decoding, objects JSON), each sample's own
 * label must be scorable by its task's reward — a solution that does not parse (invalid JSON, no
 * boxes, not a number) is reported as field "solution" instead of silently training on a reward
 * that can never be earned — and (with `prompt`) each prompt must fit the model's prompt budget,
 * instead of failing at the step that first draws the row. Without skipBad the first bad row (lowest row number) is thrown as a
 * DatasetError naming file, row and field, with the total count of bad rows; with skipBad bad rows
 * are dropped and counted in `bad` / `errors`.
 */
/** Prompts checked against the model's budget, in the model's tokenizer. */
export interface PromptCheck {
  template: string;
  maxPromptTokens: number;
  tokenizer: Tokenizer;
}

export async function readTrainingDataset(
  path: string,
  opts: {
    skipBad: boolean;
    resize?: { width: number; height: number };
    /** also check each prompt against the model's prompt budget (field problem / text) */
    prompt?: PromptCheck;
    /** task of rows without a task column (default refer) */
    task?: TaskName;
  },
): Promise<ReadResult> {
  // Checked before resizing (readDataset runs `check` on the full-size sample): resizing rebuilds
  // the solution from the parsed objects, which would turn an unparseable solution into a
  // valid-looking "no object" label. Resizing as rows are read keeps one full-size image in
  // memory at a time.
  const r = await readDataset(path, {
    skipBad: true,
    ...(opts.task ? { task: opts.task } : {}),
    ...(opts.resize ? { resize: opts.resize } : {}),
    check: (s, layout) => {
      const self = rewardForSample(s, referenceResponse(s), {
        referenceSize: s.image.width,
        thinking: false,
      });
      if (self.error !== undefined) return { field: 'solution', message: self.error };
      if (!opts.prompt) return null;
      const tokens =
        1 + opts.prompt.tokenizer.encode(renderPrompt(opts.prompt.template, s.prompt)).length; // <bos> + prompt
      if (tokens <= opts.prompt.maxPromptTokens) return null;
      return {
        field: layout === 'train' ? 'problem' : 'text',
        message: `prompt is ${tokens} tokens with template "${opts.prompt.template}"; the model's budget is ${opts.prompt.maxPromptTokens}`,
      };
    },
  });
  const errors: RowError[] = [...r.errors].sort((a, b) => a.row - b.row);
  if (!opts.skipBad && errors.length > 0) {
    const first = errors[0]!;
    throw new DatasetError({
      ...first,
      message: `${first.message} (${errors.length} bad row(s) of ${r.rows}; data.skipBadRows=true skips and counts them)`,
    });
  }
  return { ...r, bad: errors.length, errors };
}

/**
 * Bound the buffer arena between steps. The arena keeps every buffer size it has seen for reuse,
 * and a step's sizes depend on its sequence lengths, so over a run it accumulates one working
 * set per distinct length: measured on the tiny model (16 prompts × 8 rollouts) peak RSS went
 * 301 → 787 MB in 8 steps. When the arena holds more than `limit` bytes (the estimated working
 * set of one update, resources.ts `arenaRetained`) its free buffers are dropped; the next step
 * allocates afresh. Call only between steps (nothing from the arena is in use then).
 */
export function trimArena(arena: BufferArena, limit: number): boolean {
  if (arena.bytes <= limit) return false;
  arena.clear();
  return true;
}

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
  const path = join(cfg.runDir, 'config.json');
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
  const path = join(cfg.runDir, 'config.json');
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
