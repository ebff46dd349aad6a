/**
 * The format of metrics.jsonl: one line per step with flat, slash-separated keys grouped by
 * what they measure (`reward/accuracy/mean`, `time/rollout_s`, `tokens/generated`), the form
 * experiment trackers (TensorBoard, W&B, MLflow) import as they are. In memory a step is a
 * StepLog (camelCase fields, `components` nested); this module is the one place that converts
 * between the two, both ways, and reads a run's log back — old runs' camelCase lines included.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { StepStats } from './paradigms/index.js';
import type { UpdateDiagnostics } from './update.js';

/** Everything logged for one step (one line of metrics.jsonl). */
export interface StepLog extends Partial<StepStats>, UpdateDiagnostics {
  step: number;
  /** the paradigm the step ran (its registered name) */
  phase: string;
  lr: number;
  generatedTokens: number;
  /** wall time of sampling + scoring the rollouts, and of the policy update */
  rolloutSeconds: number;
  updateSeconds: number;
  /** cumulative counters since the run began */
  totalGeneratedTokens: number;
  totalTrainedTokens: number;
  seconds: number;
  totalSeconds: number;
  peakRssMb: number;
}

type Flat = Exclude<keyof StepLog, 'components'>;

/** The tracker key of every StepLog field (components go to `reward/<name>/mean`). */
export const STEP_LOG_KEYS: { readonly [K in Flat]-?: string } = {
  step: 'step',
  phase: 'phase',
  lr: 'optim/lr',
  rewardMean: 'reward/mean',
  rewardStd: 'reward/std',
  rewardRate: 'reward/rate',
  accuracyRate: 'reward/accuracy_rate',
  formatRate: 'reward/format_rate',
  zeroVarianceFraction: 'reward/zero_variance_fraction',
  labelRewardBefore: 'label/reward_before',
  labelRewardAfter: 'label/reward_after',
  labelAdvantageMean: 'label/advantage_mean',
  smoothingFraction: 'label/smoothing_fraction',
  alignedFraction: 'label/aligned_fraction',
  labelNll: 'label/nll',
  mu: 'label/chord_mu',
  responseLength: 'response/length_mean',
  truncatedFraction: 'response/truncated_fraction',
  loss: 'loss/total',
  clipFraction: 'loss/clip_fraction',
  approxKl: 'loss/approx_kl',
  entropy: 'loss/entropy',
  kl: 'loss/kl',
  gradNorm: 'grad/norm',
  gradNormRl: 'grad/norm_rl',
  gradNormSft: 'grad/norm_sft',
  clipScale: 'grad/clip_scale',
  skipped: 'update/skipped',
  forwardTokens: 'tokens/forward',
  backwardTokens: 'tokens/backward',
  generatedTokens: 'tokens/generated',
  totalGeneratedTokens: 'tokens/total_generated',
  totalTrainedTokens: 'tokens/total_trained',
  rolloutSeconds: 'time/rollout_s',
  updateSeconds: 'time/update_s',
  seconds: 'time/step_s',
  totalSeconds: 'time/total_s',
  peakRssMb: 'memory/peak_rss_mb',
};

/** Tracker keys that depend on the wall clock, not on the computation. */
export const TIMING_KEYS: readonly string[] = [
  'rolloutSeconds',
  'updateSeconds',
  'seconds',
  'totalSeconds',
  'peakRssMb',
].map((k) => STEP_LOG_KEYS[k as Flat]);

const FIELD_OF = new Map<string, Flat>(
  Object.entries(STEP_LOG_KEYS).map(([field, key]) => [key, field as Flat]),
);
const COMPONENT = /^reward\/(.+)\/mean$/;

/** A step as one metrics.jsonl record (key order: the table above, components after reward/std). */
export function toTrackerRecord(log: StepLog): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(STEP_LOG_KEYS)) {
    const v = (log as unknown as Record<string, unknown>)[field];
    if (v !== undefined) out[key] = v;
    if (field === 'rewardStd' && log.components)
      for (const [name, mean] of Object.entries(log.components)) out[`reward/${name}/mean`] = mean;
  }
  return out;
}

/**
 * A metrics.jsonl record back as a StepLog: tracker keys (this format) or the camelCase fields
 * runs wrote before it; keys it does not know are kept as they are.
 */
export function fromTrackerRecord(o: Record<string, unknown>): StepLog {
  if (!Object.keys(o).some((k) => k.includes('/'))) return o as unknown as StepLog; // an older run's line: already the in-memory form
  const out: Record<string, unknown> = {};
  let components: Record<string, number> | undefined;
  for (const [k, v] of Object.entries(o)) {
    const field = FIELD_OF.get(k);
    const component = field === undefined ? COMPONENT.exec(k) : null;
    if (field !== undefined) out[field] = v;
    else if (component) (components ??= {})[component[1]!] = v as number;
    else out[k] = v;
  }
  if (components) out.components = components;
  return out as unknown as StepLog;
}

/** The metrics.jsonl line of a step. */
export function stepLogLine(log: StepLog): string {
  return `${JSON.stringify(toTrackerRecord(log))}\n`;
}

/**
 * A run directory's metrics.jsonl as StepLogs ([] when absent); a torn last line (a crash
 * mid-write) is skipped, any other unparseable line is an error naming the file and line.
 */
export function readStepLogs(path: string): StepLog[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: StepLog[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(fromTrackerRecord(JSON.parse(line) as Record<string, unknown>));
    } catch (e) {
      const torn = i === lines.length - 1; // no newline after it: the write was cut
      if (!torn) throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
  });
  return out;
}
