/** The pre-training step figure: the shipped recipe's SFT steps, timed after a warm-up. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchPretrainStep } from '../../src/bench/pretrain-bench.js';

test('pretrain_step times the recipe’s steps after a warm-up and reports samples/s from them', async () => {
  // shrunk: 4 samples per step, one task, the 16 px model (the figure itself runs the full recipe)
  const r = await benchPretrainStep('f32', 2, [
    'model.init=tiny',
    'promptsPerStep=4',
    'microBatch=2',
    'data.tasks=[colorqa]',
  ]);
  assert.equal(r.name, 'pretrain_step');
  assert.equal(r.step_seconds.length, 2, 'the warm-up step is not counted');
  const med = [...r.step_seconds].sort((a, b) => a - b);
  const s = (med[0]! + med[1]!) / 2;
  assert.ok(
    Math.abs(r.samples_per_s - 4 / s) <= 0.06 + 0.01 * (4 / s),
    `${r.samples_per_s} vs ${4 / s}`,
  );
  assert.ok(r.tokens_per_s > 0 && r.peak_rss_mb > 0);
});
