import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, Rng, backward, noGrad, weightedSum } from '../../src/engine/index.js';
import {
  BOS,
  CheckpointError,
  TINY_CONFIG,
  VisionLanguageModel,
  buildScoringBatch,
  loadModel,
  saveModel,
  scoreResponses,
} from '../../src/model/index.js';

function batchFor(model: VisionLanguageModel) {
  const r = new Rng(4);
  const img = {
    width: 16,
    height: 16,
    data: Uint8Array.from({ length: 16 * 16 * 3 }, () => r.below(256)),
  };
  const images = model.patchify([img]);
  const batch = buildScoringBatch(
    new Int32Array([0, 0]),
    [[BOS, 70, 71], [BOS]],
    [[72, 73, 74], [75]],
  );
  return { images, batch };
}

test('checkpoint save -> load -> forward is bit-identical, with optimizer and trainer state', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-persist-'));
  try {
    const model = VisionLanguageModel.create(TINY_CONFIG, 21);
    const opt = new AdamW(model.parameterList(), { lr: 1e-3 });
    const { images, batch } = batchFor(model);
    const { logp } = scoreResponses(model, images, batch);
    backward(weightedSum(logp, new Float32Array(logp.size).fill(-1)));
    opt.step();
    await saveModel(join(dir, 'ckpt'), model, {
      optimizer: opt,
      trainerState: { step: 1, rng: 12345 },
    });
    const loaded = await loadModel(join(dir, 'ckpt'));
    const a = noGrad(() => scoreResponses(model, images, batch).logp.data);
    const b = noGrad(() => scoreResponses(loaded.model, images, batch).logp.data);
    assert.deepEqual(Buffer.from(b.buffer), Buffer.from(a.buffer));
    assert.equal(loaded.optimizer!.step, 1);
    assert.deepEqual(loaded.optimizer!.m[3], opt.state().m[3]);
    assert.deepEqual(loaded.trainerState, { step: 1, rng: 12345 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bf16 storage round-trips to the bf16-rounded weights', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-persist-'));
  try {
    const model = VisionLanguageModel.create(TINY_CONFIG, 22);
    await saveModel(join(dir, 'ckpt'), model, { dtype: 'bf16' });
    const loaded = await loadModel(join(dir, 'ckpt'));
    const w0 = model.params.get('head')!.data;
    const w1 = loaded.model.params.get('head')!.data;
    for (let i = 0; i < w0.length; i++)
      assert.ok(Math.abs(w0[i]! - w1[i]!) <= Math.abs(w0[i]!) * 2 ** -8);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('truncated or mismatched checkpoints are rejected with a message naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-persist-'));
  try {
    const model = VisionLanguageModel.create(TINY_CONFIG, 23);
    const ck = join(dir, 'ckpt');
    await saveModel(ck, model);
    // A config that no longer matches the weights.
    const cfgPath = join(ck, 'config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    await writeFile(cfgPath, JSON.stringify({ ...cfg, decoder: { ...cfg.decoder, width: 64 } }));
    await assert.rejects(
      loadModel(ck),
      (e: Error) =>
        e instanceof CheckpointError && /config\.json|model\.safetensors/.test(e.message),
    );
    await saveModel(ck, model);
    const st = join(ck, 'model.safetensors');
    const bytes = await readFile(st);
    await writeFile(st, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(
      loadModel(ck),
      (e: Error) => e instanceof CheckpointError && /model\.safetensors/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
