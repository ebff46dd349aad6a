/** The pre-training step figure: the shipped recipe's SFT steps, timed after a warm-up. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchPretrainStep } from '../../src/bench/pretrain-bench.js';

test('pretrain_step times the recipe’s steps after a warm-up and reports samples/s from them', async () => {
  // shrunk: 4 samples per step, one task, the 16 px model (the figure itself runs the full recipe)
  const r = await benchPretrainStep('f32', 3, [
    'model.init=tiny',
    'promptsPerStep=4',
    'microBatch=2',
    'data.tasks=[colorqa]',
  ]);
  assert.equal(r.name, 'pretrain_step');
  assert.equal(r.step_seconds.length, 3, 'the warm-up steps are not counted');
  const median = [...r.step_seconds].sort((a, b) => a - b)[1]!;
  // step_seconds are rounded to the millisecond: allow for that, and for samples/s's 0.1
  const rate = 4 / median;
  assert.ok(
    Math.abs(r.samples_per_s - rate) <= 0.06 + rate * (0.0006 / median),
    `${r.samples_per_s} vs ${rate}`,
  );
  assert.ok(r.tokens_per_s > 0 && r.peak_rss_mb > 0);
});

test('pretrain_step --profile covers the timed steps only, by op kind, and restores the kernels', async () => {
  const { kernels } = await import('../../src/engine/index.js');
  const before = kernels();
  const r = await benchPretrainStep(
    'f32',
    2,
    ['model.init=tiny', 'promptsPerStep=4', 'microBatch=2', 'data.tasks=[colorqa]'],
    true,
  );
  assert.equal(kernels(), before, 'the profiling wrapper is removed afterwards');
  const p = r.profile!;
  const kinds = p.rows.map((row) => row.kind);
  for (const k of ['matmul', 'attention', 'norm', 'elementwise', 'optimizer', 'framework'])
    assert.ok(kinds.includes(k as never), `${k} in ${kinds.join(',')}`);
  // per step: its wall time is the mean of the timed steps, and every kind fits inside it
  const mean = r.step_seconds.reduce((a, b) => a + b, 0) / r.step_seconds.length;
  assert.ok(Math.abs(p.wall_s - mean) < 0.002, `${p.wall_s} vs ${mean}`);
  const inside = p.rows.reduce((a, row) => a + row.seconds, 0);
  assert.ok(Math.abs(inside - p.wall_s) < 0.002, `kinds sum to ${inside}, wall ${p.wall_s}`);
});
