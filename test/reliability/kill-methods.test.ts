/**
 * SIGKILL and resume for every registered method besides ViSurf (which kill.test.ts covers at
 * 16 points): 4 kills at random moments during steps, then the same command to completion;
 * metrics, evaluation, weights and optimizer state must equal an uninterrupted run's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latestCheckpoint, loadModel } from '../../src/model/index.js';
import { METHODS } from '../../src/train/config.js';
import { join } from 'node:path';
import { rng, runSnapshot, spawnTrain, tinySets, trainCli, withTemp } from './helpers.js';

const STEPS = 8;
const KILLS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const method of METHODS.filter((m) => m !== 'visurf')) {
  test(
    `${method}: SIGKILL at ${KILLS} random moments during steps resumes exactly`,
    { timeout: 120_000 },
    async () => {
      await withTemp(async (tmp) => {
        const args = (dir: string) => [
          '--method',
          method,
          '--run-dir',
          dir,
          ...tinySets(STEPS, ['sftSteps=3']).flatMap((s) => ['--set', s]),
        ];
        const r0 = trainCli(args(join(tmp, 'ref')));
        assert.equal(r0.status, 0, r0.stderr);
        const ref = runSnapshot(join(tmp, 'ref'), STEPS);
        const dir = join(tmp, 'killed');
        const r = rng(method.length * 31);
        let landed = 0;
        for (let k = 0; k < KILLS; k++) {
          const c = spawnTrain(args(dir));
          await c.waitForStderr(new RegExp(`train ${method} \\d+/${STEPS}`)).catch(() => undefined);
          await sleep(Math.floor(r() * 60));
          c.child.kill('SIGKILL');
          const how = await c.exited;
          if (how === 0) break; // finished before the kill landed
          assert.equal(how, 'SIGKILL', c.stderr());
          landed++;
          const latest = await latestCheckpoint(dir);
          if (latest) await loadModel(latest.path);
        }
        assert.ok(landed >= 2, `only ${landed} kills landed`);
        const fin = trainCli(args(dir));
        assert.equal(fin.status, 0, fin.stderr);
        const got = runSnapshot(dir, STEPS);
        assert.deepEqual(got.metrics, ref.metrics, 'metrics');
        assert.deepEqual(got.evals, ref.evals, 'eval');
        assert.ok(got.weights.equals(ref.weights), 'weights');
        assert.ok(got.optimizer.equals(ref.optimizer), 'optimizer state');
      });
    },
  );
}
