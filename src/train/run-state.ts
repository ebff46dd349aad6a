/**
 * The trainer's own state (step, RNG, counters, stage) as saved in each checkpoint's
 * trainer_state.json, and its validation on resume: a value read back from disk is checked
 * before anything in the run directory is rewritten, so a damaged or hand-edited state stops
 * the run with a message naming the file and field instead of wiping logs or training nothing.
 */
import { join } from 'node:path';
import { z } from 'zod';

export interface TrainerState {
  step: number;
  rng: number;
  totalGeneratedTokens: number;
  totalTrainedTokens: number;
  totalSeconds: number;
  nonFiniteStreak: number;
  /** the stage the run is in (a staged method's, e.g. sft-rlvr's 'sft' / 'rl'; see paradigms/schedules.ts) */
  stage: string;
  /** set when training ended (step limit or budget) */
  finished: boolean;
}

const count = z.number().int().min(0);
const TrainerStateSchema = z
  .object({
    step: count,
    // the RNG state is a 32-bit unsigned integer (engine/random.ts)
    rng: z.number().int().min(0).max(0xffffffff),
    totalGeneratedTokens: count,
    totalTrainedTokens: count,
    totalSeconds: z.number().finite().min(0),
    nonFiniteStreak: count,
    stage: z.string().min(1),
    finished: z.boolean(),
  })
  .strict();

export class RunStateError extends Error {
  override name = 'RunStateError';
}

/**
 * A checkpoint's trainer state, checked: every field present with a value a run can have, a
 * step no later than the run's last, and a stage the method has.
 */
export function validateTrainerState(
  raw: unknown,
  checkpoint: string,
  limits: { steps: number; stages: readonly string[] },
): TrainerState {
  const file = join(checkpoint, 'trainer_state.json');
  if (raw === undefined)
    throw new RunStateError(`${file}: missing; this checkpoint cannot resume a run`);
  const r = TrainerStateSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new RunStateError(
      `${file}: field "${i.path.join('.') || '(root)'}": ${i.message} (got ${JSON.stringify(
        i.path.reduce<unknown>(
          (o, k) =>
            o && typeof o === 'object' ? (o as Record<string, unknown>)[String(k)] : undefined,
          raw,
        ),
      )})`,
    );
  }
  const s = r.data;
  if (s.step > limits.steps)
    throw new RunStateError(
      `${file}: field "step": the checkpoint is at step ${s.step}, past this run's steps=${limits.steps}; ` +
        `raise steps to at least ${s.step} or start a new run directory`,
    );
  if (!limits.stages.includes(s.stage))
    throw new RunStateError(
      `${file}: field "stage": "${s.stage}" is not a stage of this method (${limits.stages.join(', ')})`,
    );
  return s;
}
