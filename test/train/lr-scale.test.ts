/** AdamW per-parameter learning-rate multipliers: 0 freezes, a fraction slows; the prefix rule; a frozen encoder in training. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, Tensor } from '../../src/engine/index.js';
import { join } from 'node:path';
import { lrScaleOf, train } from '../../src/train/trainer.js';
import {
  TINY_CONFIG,
  VisionLanguageModel,
  latestCheckpoint,
  loadModel,
} from '../../src/model/index.js';
import { tinyConfig, withTemp } from '../reliability/helpers.js';

function param(name: string, values: number[]): Tensor {
  const t = Tensor.param(Float32Array.from(values), [values.length]);
  t.name = name;
  return t;
}

test('lrScale: a frozen parameter does not move and its gradient is not in the clipping norm', () => {
  const frozen = param('vision.w', [1, 2]);
  const slow = param('vision.stem.w', [1, 2]);
  const free = param('head', [1, 2]);
  const scales: Record<string, number> = { 'vision.': 0, 'vision.stem.': 0.5 };
  const opt = new AdamW([frozen, slow, free], {
    lr: 0.1,
    maxGradNorm: 1,
    lrScale: (p) => lrScaleOf(scales, p.name ?? ''),
  });
  for (const p of [frozen, slow, free]) p.gradBuffer().set([0.3, -0.4]);
  frozen.gradBuffer().set([300, -400]); // huge, but frozen: must not shrink the others' update
  const r = opt.step();
  assert.ok(Math.abs(r.gradNorm - Math.sqrt(2 * 0.25)) < 1e-6, `norm ${r.gradNorm}`);
  assert.deepEqual(Array.from(frozen.data), [1, 2]);
  // Adam's first step moves each coordinate by lr * sign(g) (times the lr scale)
  assert.ok(Math.abs(free.data[0]! - 0.9) < 1e-4 && Math.abs(free.data[1]! - 2.1) < 1e-4);
  assert.ok(Math.abs(slow.data[0]! - 0.95) < 1e-4 && Math.abs(slow.data[1]! - 2.05) < 1e-4);
});

test('lrScaleOf: the longest matching prefix wins, default 1', () => {
  const s = { 'vision.': 0, 'vision.stem.': 0.5, blocks: 2 };
  assert.equal(lrScaleOf(s, 'vision.blocks.0.qkv'), 0);
  assert.equal(lrScaleOf(s, 'vision.stem.1.weight'), 0.5);
  assert.equal(lrScaleOf(s, 'blocks.3.w2'), 2);
  assert.equal(lrScaleOf(s, 'head'), 1);
  assert.equal(lrScaleOf({}, 'head'), 1);
});

test('train with optim.lrScale { vision.: 0 }: the encoder stays as it was, the rest learns', async () => {
  await withTemp(async (dir) => {
    const runDir = join(dir, 'run');
    const cfg = tinyConfig(runDir, 2, ['method=sft', "optim.lrScale={'vision.': 0}"]);
    const init = VisionLanguageModel.create(TINY_CONFIG, 7);
    await train(cfg);
    const latest = await latestCheckpoint(runDir);
    const { model } = await loadModel(latest!.path);
    for (const [name, t] of model.params) {
      const same = t.data.every((v, i) => v === init.params.get(name)!.data[i]);
      assert.equal(same, name.startsWith('vision.'), `${name} unchanged: ${same}`);
    }
  });
});
