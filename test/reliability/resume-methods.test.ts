/**
 * Exact resume for every registered method, not only ViSurf: RLVR steps whose advantages are
 * all zero run no backward pass, so after a resume the optimizer meets parameters that never had
 * a gradient buffer; the resumed run must still equal the uninterrupted one bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { METHODS } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { runSnapshot, tinyConfig, withTemp } from './helpers.js';

const STEPS = 5;

class Crash extends Error {}

const finalState = (dir: string) => runSnapshot(dir, STEPS);

for (const method of METHODS) {
  test(`${method}: a crash after steps 1 and 3 resumes bit-exactly`, async () => {
    await withTemp(async (tmp) => {
      // one prompt per step and a tiny model: most RL groups score all-equal (no backward)
      const extra = [`method=${method}`, 'sftSteps=2', 'promptsPerStep=1'];
      await train(tinyConfig(join(tmp, 'ref'), STEPS, extra));
      const ref = finalState(join(tmp, 'ref'));
      const dir = join(tmp, 'run');
      for (const at of [1, 3])
        await assert.rejects(
          train(tinyConfig(dir, STEPS, extra), {
            afterStep: (s) => {
              if (s === at) throw new Crash();
            },
          }),
          Crash,
        );
      await train(tinyConfig(dir, STEPS, extra));
      const got = finalState(dir);
      assert.deepEqual(got.metrics, ref.metrics, 'metrics');
      assert.deepEqual(got.evals, ref.evals, 'eval');
      assert.ok(got.weights.equals(ref.weights), 'weights');
      assert.ok(got.optimizer.equals(ref.optimizer), 'optimizer state');
    });
  });
}

test('bf16 checkpoints resume bit-exactly too (the exact weights are kept beside the moments)', async () => {
  await withTemp(async (tmp) => {
    const extra = ['method=visurf', 'checkpoint.dtype=bf16'];
    await train(tinyConfig(join(tmp, 'ref'), STEPS, extra));
    const ref = finalState(join(tmp, 'ref'));
    const dir = join(tmp, 'run');
    await assert.rejects(
      train(tinyConfig(dir, STEPS, extra), {
        afterStep: (s) => {
          if (s === 2) throw new Crash();
        },
      }),
      Crash,
    );
    await train(tinyConfig(dir, STEPS, extra));
    const got = finalState(dir);
    assert.deepEqual(got.metrics, ref.metrics, 'metrics');
    assert.ok(got.weights.equals(ref.weights), 'weights');
    assert.ok(got.optimizer.equals(ref.optimizer), 'optimizer state');
  });
});
