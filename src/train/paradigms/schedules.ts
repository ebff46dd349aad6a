/**
 * Methods as schedules over paradigms: which paradigm each step runs. Most methods run one
 * paradigm throughout; the two-stage baseline runs SFT, then RLVR from the SFT model.
 */
import type { TrainConfig } from '../config.js';
import type { Paradigm } from './types.js';

/** What a schedule may look at: the run's current stage and its spending so far. */
export interface RunProgress {
  /** the stage the run is in (a staged method's own names; unused by one-paradigm methods) */
  stage: string;
  /** generated + trained tokens so far */
  spentTokens: number;
}

export interface Schedule {
  /** every paradigm the method may run (the memory estimate takes the largest) */
  paradigms: readonly Paradigm[];
  /** the stages a run of this method goes through, in order (the first is where it starts) */
  stages: readonly string[];
  /**
   * The paradigm of a step and the stage it belongs to. When the stage differs from the run's,
   * the loop keeps the model that ended the old stage (as `<stage>-stage/`) and moves on.
   */
  at(step: number, run: RunProgress, cfg: TrainConfig): { paradigm: Paradigm; stage: string };
}

/** One paradigm for the whole run. */
export function single(paradigm: Paradigm): Schedule {
  return {
    paradigms: [paradigm],
    // 'sft' is what runs of every method recorded before schedules existed
    stages: ['sft'],
    at: (_step, run) => ({ paradigm, stage: run.stage }),
  };
}

/**
 * `first`, then `second` for the rest of the run: from step `sftSteps` (when set) or once half
 * the token budget is spent, whichever comes first. The stages are named 'sft' and 'rl' (the
 * names checkpoints record).
 */
export function twoStage(first: Paradigm, second: Paradigm): Schedule {
  return {
    paradigms: [first, second],
    stages: ['sft', 'rl'],
    at: (step, run, cfg) => {
      const switched =
        run.stage === 'rl' ||
        (cfg.sftSteps > 0 && step >= cfg.sftSteps) ||
        (cfg.budgetTokens > 0 && run.spentTokens >= cfg.budgetTokens / 2);
      return switched ? { paradigm: second, stage: 'rl' } : { paradigm: first, stage: 'sft' };
    },
  };
}
