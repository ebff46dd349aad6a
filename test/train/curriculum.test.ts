import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseTrainConfig } from '../../src/train/config.js';
import { trainSource } from '../../src/train/data.js';

const stagedConfig = (over: Record<string, unknown> = {}) =>
  parseTrainConfig({
    method: 'sft',
    steps: 10,
    promptsPerStep: 4,
    data: {
      tasks: ['refer', 'count'],
      curriculum: [
        { steps: 2, tasks: ['colorqa'] },
        { steps: 3, tasks: ['shapeqa', 'caption'], taskWeights: { caption: 3 } },
      ],
    },
    ...over,
  });

test('curriculum: stages feed their tasks for their steps, in order, then the main mixture', async () => {
  const cfg = stagedConfig();
  const src = await trainSource(cfg, 64);
  const taskAt = (i: number) => src.get(i).task;
  // stage 0: steps 0-1 = samples 0-7; stage 1: steps 2-4 = samples 8-19; then data.tasks
  for (let i = 0; i < 8; i++) assert.equal(taskAt(i), 'colorqa', `sample ${i}`);
  const stage1 = Array.from({ length: 12 }, (_, k) => taskAt(8 + k));
  assert.ok(
    stage1.every((t) => t === 'shapeqa' || t === 'caption'),
    stage1.join(','),
  );
  assert.ok(stage1.includes('caption'));
  const main = Array.from({ length: 40 }, (_, k) => taskAt(20 + k));
  assert.ok(
    main.every((t) => t === 'refer' || t === 'count'),
    main.join(','),
  );
  assert.ok(main.includes('refer') && main.includes('count'));
  // a pure function of (seed, index): a second source (a resumed run) sees the same samples
  const again = await trainSource(cfg, 64);
  for (const i of [0, 9, 25]) assert.equal(again.get(i).prompt, src.get(i).prompt);
  // without stages the main mixture starts at sample 0, with the same samples as after them
  const plain = await trainSource(stagedConfig({ data: { tasks: ['refer', 'count'] } }), 64);
  assert.equal(plain.get(25).prompt, src.get(25).prompt);
});

test('curriculum: errors name the field', async () => {
  assert.throws(
    () => stagedConfig({ steps: 5 }),
    (e: Error) =>
      e instanceof ConfigError && /data\.curriculum: its stages take 5 steps/.test(e.message),
  );
  await assert.rejects(
    trainSource(
      stagedConfig({ data: { tasks: ['refer'], curriculum: [{ steps: 1, tasks: ['colour'] }] } }),
      64,
    ),
    (e: Error) =>
      e instanceof ConfigError &&
      /data\.curriculum\[0\]\.tasks: unknown task "colour"/.test(e.message),
  );
  assert.throws(
    () =>
      stagedConfig({ data: { tasks: ['refer'], curriculum: [{ steps: 1, task: ['colorqa'] }] } }),
    ConfigError,
  );
});
