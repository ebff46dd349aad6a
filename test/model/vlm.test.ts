import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad, withMatmulDtype } from '../../src/engine/index.js';
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

test('grid embedding: patches tell their row and column apart; old configs load without it', () => {
  const m = VisionLanguageModel.create(TINY_CONFIG, 1);
  const grid = TINY_CONFIG.image.size / TINY_CONFIG.image.patch;
  assert.deepEqual(m.params.get('vision.row_embed')!.shape, [grid, TINY_CONFIG.vision.width]);
  // A uniform grey image: every patch has the same pixels, so only position separates them.
  const size = TINY_CONFIG.image.size;
  const grey: RgbImage = {
    width: size,
    height: size,
    data: new Uint8Array(size * size * 3).fill(128),
  };
  const features = noGrad(() => m.encodeImages(m.patchify([grey])));
  const w = features.dim(-1);
  const at = (p: number) => Array.from(features.data.subarray(p * w, (p + 1) * w));
  const firstRow = at(0);
  const sameColNextRow = at(grid);
  const sameRowNextCol = at(1);
  const differs = (a: number[], b: number[]) => a.some((v, i) => Math.abs(v - b[i]!) > 1e-3);
  assert.ok(differs(firstRow, sameColNextRow), 'rows are indistinguishable');
  assert.ok(differs(firstRow, sameRowNextCol), 'columns are indistinguishable');
  // A checkpoint's config.json from before the field existed parses with the embedding off.
  const { gridEmbedding: _omit, ...oldVision } = BENCH_CONFIG.vision;
  const old = parseModelConfig({ ...BENCH_CONFIG, vision: oldVision }, 'old config.json');
  assert.equal(old.vision.gridEmbedding, false);
  const oldModel = VisionLanguageModel.create(old, 0);
  assert.ok(![...oldModel.params.keys()].some((k) => k.includes('row_embed')));
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

for (const dtype of ['f32', 'bf16'] as const)
  test(`KV-cached decoding gives the logits of a full forward pass (${dtype}; prompts of different lengths)`, () =>
    withMatmulDtype(dtype, () => {
      // bf16: the cache holds bf16 keys/values (as the bf16 products round them), while the full
      // pass also rounds queries and probabilities: the two agree to bf16's resolution
      const [rtol, atol] = dtype === 'f32' ? [1e-4, 1e-4] : [3e-2, 3e-2];
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
            rtol,
            atol,
            `seq ${b} step ${step}`,
          );
        }
      });
      assert.equal(imageTokens(TINY_CONFIG), 16);
    }));

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
