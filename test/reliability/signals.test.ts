/**
 * Interrupts with the default checkpoint cadence (no per-step saves): SIGINT, SIGTERM and SIGHUP
 * are each seen at the next step boundary, save a checkpoint there and exit with 128 + the
 * signal's number; the resumed run completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latestCheckpoint } from '../../src/model/index.js';
import { join } from 'node:path';
import { spawnTrain, steps, tinySets, trainCli, withTemp } from './helpers.js';

const STEPS = 400; // long enough that the run cannot end before the signal lands
const args = (dir: string) => [
  '--method',
  'sft',
  '--run-dir',
  dir,
  ...tinySets(STEPS, ['checkpoint.every=0']).flatMap((s) => ['--set', s]),
];

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  test(
    `${signal} with checkpoint.every=0: saves at the next step and exits ${code}`,
    { timeout: 120_000 },
    async () => {
      await withTemp(async (tmp) => {
        const dir = join(tmp, 'run');
        const c = spawnTrain(args(dir));
        await c.waitForStderr(/train sft 3\/400/);
        c.child.kill(signal);
        assert.equal(await c.exited, code, c.stderr());
        assert.match(
          c.stderr(),
          new RegExp(`interrupt \\(${signal}\\): finishing the current step`),
        );
        const stopped = Number(/interrupted before step (\d+)/.exec(c.stderr())?.[1]);
        assert.ok(stopped >= 3 && stopped < STEPS, c.stderr());
        assert.equal((await latestCheckpoint(dir))?.step, stopped);
        assert.equal(steps(dir).at(-1), stopped - 1);
        if (signal === 'SIGINT') {
          // the same command resumes from there (and a shorter run is not an error: raise steps)
          const r = trainCli([...args(dir), '--set', `steps=${stopped + 1}`]);
          assert.equal(r.status, 0, r.stderr);
          assert.match(r.stderr, new RegExp(`resuming from .*\\(step ${stopped}\\)`));
          assert.equal(steps(dir).length, stopped + 1);
        }
      });
    },
  );
}
