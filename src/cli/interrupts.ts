/**
 * Ctrl-C, SIGTERM and SIGHUP during training: the first lets the current step finish, saves a
 * checkpoint and exits with 128 + the signal's number (130, 143, 129); a second one aborts at
 * once — unless a checkpoint is being written, which is then finished first (an abandoned save
 * is harmless, as saves are atomic, but it would throw away the work it was saving).
 */
import { constants } from 'node:os';
import type { TrainHooks } from '../train/trainer.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Interrupts {
  /** trainer hooks: polled between steps, told when a save runs */
  hooks: Required<Pick<TrainHooks, 'shouldStop' | 'saving'>>;
  /** the exit status for the signal received (130 when none) */
  exitCode(): number;
  dispose(): void;
}

export function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

export function watchInterrupts(
  log: (text: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): Interrupts {
  let received: NodeJS.Signals | null = null;
  let savingNow = false;
  let exitAfterSave = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received === null) {
      received = signal;
      log(
        `visurf: interrupt (${signal}): finishing the current step, then saving a checkpoint ` +
          '(Ctrl-C again to abort now; the steps since the last checkpoint are then lost)',
      );
      return;
    }
    if (savingNow) {
      exitAfterSave = true;
      log('visurf: a checkpoint is being written; exiting as soon as it is complete');
      return;
    }
    exit(exitCodeOf(received));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    hooks: {
      shouldStop: () => received !== null,
      saving: (active) => {
        savingNow = active;
        if (!active && exitAfterSave) exit(exitCodeOf(received ?? 'SIGINT'));
      },
    },
    exitCode: () => exitCodeOf(received ?? 'SIGINT'),
    dispose: () => {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}
