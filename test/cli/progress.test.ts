import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTokens, trainProgress } from '../../src/cli/progress.js';
import type { StepLog } from '../../src/train/trainer.js';

function stepLog(step: number, generated: number, trained: number): StepLog {
  return {
    step,
    phase: 'rlvr',
    lr: 1e-4,
    loss: 0,
    labelNll: Number.NaN,
    gradNorm: 0.1,
    generatedTokens: 0,
    rolloutSeconds: 0,
    updateSeconds: 0,
    totalGeneratedTokens: generated,
    totalTrainedTokens: trained,
    seconds: 1,
    totalSeconds: step + 1,
    peakRssMb: 1,
  } as StepLog;
}

/** Runs fn with process.stderr.write captured (tests run without a TTY: plain lines). */
function captureStderr(fn: () => void): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk).trimEnd());
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return lines;
}

test('formatTokens shortens counts', () => {
  assert.equal(formatTokens(950), '950');
  assert.equal(formatTokens(41_600), '42k');
  assert.equal(formatTokens(1_200_000), '1.20M');
});

test('under a token budget, training progress counts tokens, not the step limit', () => {
  const lines = captureStderr(() => {
    const bar = trainProgress('train rlvr', { steps: 2000, budgetTokens: 100_000 });
    bar.step(stepLog(0, 10_000, 15_000));
    bar.step(stepLog(1, 20_000, 30_000));
    bar.step(stepLog(3, 50_000, 60_000)); // budget spent: shown as full, then the bar stops
    bar.step(stepLog(4, 60_000, 70_000)); // nothing more after it stopped
    bar.stop();
  });
  assert.equal(lines.length, 3);
  // no ETA before there is a rate (the first step may be a resumed run's 500th)
  assert.match(lines[0]!, /^train rlvr 25k\/100k tokens \| step 1 · rlvr/);
  assert.match(lines[1]!, /^train rlvr 50k\/100k tokens \| ETA \S+ \| step 2 · /);
  assert.match(lines[2]!, /^train rlvr 100k\/100k tokens \| step 4 · /);
  assert.ok(!lines.some((l) => l.includes('/2000')));
});

test('without a budget, training progress counts steps', () => {
  const lines = captureStderr(() => {
    const bar = trainProgress('train sft', { steps: 4, budgetTokens: 0 });
    bar.step(stepLog(0, 0, 500));
    bar.step(stepLog(3, 0, 2000));
  });
  assert.match(lines[0]!, /^train sft 1\/4 \| rlvr · loss/);
  assert.match(lines[1]!, /^train sft 4\/4 \| rlvr · loss/);
});

/** A terminal stand-in: cli-progress draws to it as to a TTY; the text is kept. */
function fakeTerminal(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = {
    isTTY: true,
    columns: 200,
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
    on: () => stream,
    removeListener: () => stream,
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/**
 * Runs fn, then clears every timer it started, so a bar left drawing by a bug fails the
 * assertions instead of keeping the test process alive.
 */
function withTimerCleanup(fn: () => void): void {
  const started: ReturnType<typeof setTimeout>[] = [];
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    const t = original(...args);
    started.push(t);
    return t;
  }) as typeof setTimeout;
  try {
    fn();
  } finally {
    globalThis.setTimeout = original;
    for (const t of started) clearTimeout(t);
  }
}

test('on a terminal, a log line after the bar finished does not restart it (the process can exit)', () =>
  withTimerCleanup(() => {
    const term = fakeTerminal();
    const before = timers();
    const bar = trainProgress('train sft', { steps: 500, budgetTokens: 1000 }, term.stream);
    bar.step(stepLog(0, 0, 600));
    assert.equal(timers(), before + 1, 'a drawing bar has its redraw timer');
    bar.step(stepLog(1, 0, 1200)); // budget spent: the bar stops itself
    bar.log('eval @ step 2'); // the final evaluation is printed after that
    bar.stop();
    assert.equal(timers(), before, 'no redraw timer left to keep the process alive');
    assert.match(term.text(), /1k\/1k tokens/);
    assert.match(term.text(), /eval @ step 2/);
  }));

test('on a terminal, a log line mid-run redraws the bar where it was', () =>
  withTimerCleanup(() => {
    const term = fakeTerminal();
    const bar = trainProgress('train sft', { steps: 10, budgetTokens: 0 }, term.stream);
    bar.step(stepLog(4, 0, 100));
    bar.log('visurf: a message');
    const afterLog = term.text().slice(term.text().indexOf('visurf: a message'));
    assert.match(afterLog, /5\/10/, 'redrawn at step 5, not from 0');
    assert.doesNotMatch(afterLog, / 0\/10/);
    bar.stop();
  }));
