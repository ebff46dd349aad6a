import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad } from '../../src/engine/index.js';
import {
  BENCH_CONFIG,
  BOS,
  EOS,
  TINY_CONFIG,
  VisionLanguageModel,
  buildScoringBatch,
  generate,
  imageTokens,
  parseModelConfig,
  type RgbImage,
} from '../../src/model/index.js';
import { assertClose } from '../helpers.js';

function noiseImage(size: number, seed: number): RgbImage {
  const r = new Rng(seed);
  return {
    width: size,
    height: size,
    data: Uint8Array.from({ length: size * size * 3 }, () => r.below(256)),
  };
}

test('bench config has the BENCH.md parameter count (≈5.96 M)', () => {
  const m = VisionLanguageModel.create(BENCH_CONFIG, 0);
  const n = m.parameterCount();
  assert.ok(Math.abs(n - 5.96e6) < 0.01e6, `bench model has ${n} parameters`);
});

test('initialisation is deterministic by seed', () => {
  const a = VisionLanguageModel.create(TINY_CONFIG, 5);
  const b = VisionLanguageModel.create(TINY_CONFIG, 5);
  const c = VisionLanguageModel.create(TINY_CONFIG, 6);
  assert.deepEqual(a.params.get('head')!.data, b.params.get('head')!.data);
  assert.notDeepEqual(a.params.get('head')!.data, c.params.get('head')!.data);
});

test('config validation names the bad field', () => {
  assert.throws(
    () =>
      parseModelConfig(
        { ...TINY_CONFIG, decoder: { ...TINY_CONFIG.decoder, heads: 5 } },
        'cfg.json',
      ),
    /cfg\.json.*decoder\.heads/,
  );
  assert.throws(() => parseModelConfig({ ...TINY_CONFIG, extra: 1 }, 'cfg.json'), /cfg\.json/);
});

test('KV-cached decoding gives the logits of a full forward pass (prompts of different lengths)', () => {
  const model = VisionLanguageModel.create(TINY_CONFIG, 1);
  const images = model.patchify([noiseImage(16, 1), noiseImage(16, 2)]);
  const imageOf = new Int32Array([0, 1, 1]);
  const prompts = [
    [BOS, 65, 66, 67, 68],
    [BOS, 70],
    [BOS, 71, 72, 73],
  ];
  const V = TINY_CONFIG.vocab;
  const stepLogits: Float32Array[] = [];
  const gen = generate(
    model,
    { images, imageOf, prompts },
    {
      maxNewTokens: 10,
      rng: new Rng(3),
      temperature: 1,
      stopTokens: [],
      onStepLogits: (_s, l) => stepLogits.push(l.slice()),
    },
  );
  assert.equal(stepLogits.length, 10);
  // Full forward over [image][prompt][response] and compare the logits at every decoded step.
  const batch = buildScoringBatch(imageOf, prompts, gen.tokens);
  const full = noGrad(() => model.textLogits(images, batch.text));
  const L = batch.text.textLen;
  prompts.forEach((p, b) => {
    for (let step = 0; step < gen.tokens[b]!.length; step++) {
      const pos = p.length + step; // text position predicted at this step
      const expected = full.data.subarray((b * L + pos) * V, (b * L + pos + 1) * V);
      assertClose(
        stepLogits[step]!.subarray(b * V, (b + 1) * V),
        expected,
        1e-4,
        1e-4,
        `seq ${b} step ${step}`,
      );
    }
  });
  assert.equal(imageTokens(TINY_CONFIG), 16);
});

test('sampling is reproducible by seed and greedy decoding is deterministic', () => {
  const model = VisionLanguageModel.create(TINY_CONFIG, 2);
  const images = model.patchify([noiseImage(16, 3)]);
  const req = {
    images,
    imageOf: new Int32Array([0, 0]),
    prompts: [
      [BOS, 80],
      [BOS, 81, 82],
    ],
  };
  const a = generate(model, req, { maxNewTokens: 8, rng: new Rng(9), topP: 0.9, topK: 50 });
  const b = generate(model, req, { maxNewTokens: 8, rng: new Rng(9), topP: 0.9, topK: 50 });
  assert.deepEqual(a.tokens, b.tokens);
  const g1 = generate(model, req, { maxNewTokens: 8, rng: new Rng(1), greedy: true });
  const g2 = generate(model, req, { maxNewTokens: 8, rng: new Rng(2), greedy: true });
  assert.deepEqual(g1.tokens, g2.tokens);
  for (const lp of a.logprobs) for (const v of lp) assert.ok(v <= 0 && Number.isFinite(v));
});

test('generation stops at a stop token and reports the finish reason', () => {
  const model = VisionLanguageModel.create(TINY_CONFIG, 3);
  const images = model.patchify([noiseImage(16, 4)]);
  const req = { images, imageOf: new Int32Array([0, 0]), prompts: [[BOS], [BOS, 90]] };
  const everyToken = Array.from({ length: TINY_CONFIG.vocab }, (_, i) => i);
  const stopped = generate(model, req, {
    maxNewTokens: 5,
    rng: new Rng(0),
    stopTokens: everyToken,
  });
  assert.deepEqual(stopped.finish, ['stop', 'stop']);
  assert.deepEqual(
    stopped.tokens.map((t) => t.length),
    [1, 1],
  );
  const running = generate(model, req, { maxNewTokens: 5, rng: new Rng(0), stopTokens: [] });
  assert.deepEqual(running.finish, ['length', 'length']);
  assert.deepEqual(
    running.tokens.map((t) => t.length),
    [5, 5],
  );
  // Same seed, same first token whatever the stop set.
  assert.equal(running.tokens[0]![0], stopped.tokens[0]![0]);
  void EOS;
});
