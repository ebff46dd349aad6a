/** The interrupt rule: the first signal stops at the next step; a second aborts, but never mid-save. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchInterrupts } from '../../src/cli/interrupts.js';

test('a second signal aborts at once, except during a save, which it lets finish first', () => {
  const exits: number[] = [];
  const logs: string[] = [];
  const w = watchInterrupts(
    (m) => logs.push(m),
    (c) => exits.push(c),
  );
  try {
    assert.equal(w.hooks.shouldStop(), false);
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(w.hooks.shouldStop(), true);
    assert.equal(w.exitCode(), 143);
    assert.deepEqual(exits, [], 'the first signal only asks to stop');
    w.hooks.saving(true);
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits, [], 'not during the save');
    assert.match(logs.at(-1)!, /checkpoint is being written; exiting as soon as it is complete/);
    w.hooks.saving(false);
    assert.deepEqual(exits, [143], 'as soon as the save is done, with the first signal’s status');
  } finally {
    w.dispose();
  }
  const exits2: number[] = [];
  const w2 = watchInterrupts(
    () => {},
    (c) => exits2.push(c),
  );
  try {
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(exits2, [130], 'no save running: the second aborts at once');
  } finally {
    w2.dispose();
  }
});
