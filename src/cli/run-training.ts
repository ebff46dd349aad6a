/** A training run from the command line: progress bar, evaluation tables, interrupts. */
import type { TrainConfig } from '../train/config.js';
import { InterruptedError, train, type TrainResult } from '../train/trainer.js';
import { watchInterrupts } from './interrupts.js';
import { trainProgress } from './progress.js';
import { formatEvalTable } from './tables.js';

/**
 * Train (or resume) `cfg` showing progress. On an interrupt the run saves, says how to resume
 * and this returns null with process.exitCode set to 128 + the signal's number.
 */
export async function runTraining(label: string, cfg: TrainConfig): Promise<TrainResult | null> {
  const bar = trainProgress(label, cfg);
  const interrupts = watchInterrupts((m) => bar.log(m));
  try {
    const result = await train(cfg, {
      onStep: (l) => bar.step(l),
      onEval: (e) => bar.log(`eval @ step ${e.step}\n${formatEvalTable(e.tasks)}`),
      onMessage: (m) => bar.log(`visurf: ${m}`),
      ...interrupts.hooks,
    });
    bar.stop();
    return result;
  } catch (err) {
    bar.stop();
    if (err instanceof InterruptedError) {
      process.stderr.write(`visurf: ${err.message}\n`);
      process.exitCode = interrupts.exitCode();
      return null;
    }
    throw err;
  } finally {
    interrupts.dispose();
  }
}
