/**
 * The model learns a small image-conditioned task end to end: name the colour of the only
 * shape in a 16x16 image (teacher-forced NLL training, then greedy generation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW,
  Rng,
  backward,
  weightedSum,
  warmupCosineLr,
  withMatmulDtype,
  type MatmulDtype,
} from '../../src/engine/index.js';
import {
  BOS,
  EOS,
  TINY_CONFIG,
  VisionLanguageModel,
  buildScoringBatch,
  decode,
  encode,
  generate,
  scoreResponses,
  type RgbImage,
} from '../../src/model/index.js';

const COLOURS: Array<[string, [number, number, number]]> = [
  ['red', [220, 30, 30]],
  ['green', [30, 200, 40]],
  ['blue', [40, 60, 230]],
  ['yellow', [230, 220, 40]],
];

function scene(r: Rng): { image: RgbImage; colour: string } {
  const size = 16;
  const data = new Uint8Array(size * size * 3);
  const [name, rgb] = COLOURS[r.below(COLOURS.length)]!;
  const side = 4 + r.below(5);
  const x0 = r.below(size - side);
  const y0 = r.below(size - side);
  for (let y = y0; y < y0 + side; y++)
    for (let x = x0; x < x0 + side; x++) data.set(rgb, (y * size + x) * 3);
  return { image: { width: size, height: size, data }, colour: name };
}

/**
 * Trains and evaluates under one matmul precision; returns the final loss and the accuracy. Under
 * bf16 this also exercises the bf16 weight cache across 120 optimizer updates (a stale copy
 * would stall learning).
 */
function learnColour(dtype: MatmulDtype): { lastLoss: number; accuracy: number } {
  return withMatmulDtype(dtype, () => {
    const model = VisionLanguageModel.create(TINY_CONFIG, 11);
    const opt = new AdamW(model.parameterList(), { lr: 3e-3, weightDecay: 0.01, maxGradNorm: 1 });
    const prompt = [BOS, ...encode('colour?')];
    const r = new Rng(5);
    const steps = 120;
    const B = 32;
    let lastLoss = Infinity;
    for (let step = 0; step < steps; step++) {
      const scenes = Array.from({ length: B }, () => scene(r));
      const images = model.patchify(scenes.map((s) => s.image));
      const responses = scenes.map((s) => [...encode(s.colour), EOS]);
      const batch = buildScoringBatch(
        Int32Array.from(scenes, (_, i) => i),
        scenes.map(() => prompt),
        responses,
      );
      const { logp } = scoreResponses(model, images, batch);
      const n = responses.reduce((a, x) => a + x.length, 0);
      const w = Float32Array.from(batch.targets, (t) => (t >= 0 ? -1 / n : 0));
      const loss = weightedSum(logp, w);
      opt.zeroGrad();
      backward(loss);
      opt.step(warmupCosineLr(step, { baseLr: 3e-3, warmupSteps: 10, totalSteps: steps }));
      lastLoss = loss.item();
    }
    const test = Array.from({ length: 64 }, () => scene(new Rng(r.below(1e9))));
    const gen = generate(
      model,
      {
        images: model.patchify(test.map((s) => s.image)),
        imageOf: Int32Array.from(test, (_, i) => i),
        prompts: test.map(() => prompt),
      },
      { maxNewTokens: 8, greedy: true, rng: new Rng(0), stopTokens: [EOS] },
    );
    const correct = gen.tokens.filter((t, i) => decode(t) === test[i]!.colour).length;
    return { lastLoss, accuracy: correct / test.length };
  });
}

const results = new Map<MatmulDtype, { lastLoss: number; accuracy: number }>();
for (const dtype of ['f32', 'bf16'] as const) {
  test(`the model learns to name the colour of the only shape (SFT, then greedy decoding; ${dtype} matmuls)`, () => {
    const r = learnColour(dtype);
    results.set(dtype, r);
    assert.ok(r.lastLoss < 0.1, `final NLL per token ${r.lastLoss}`);
    assert.ok(r.accuracy >= 0.95, `accuracy ${r.accuracy}`);
    // bf16 (bf16 matmul inputs, f32 accumulation and master weights) reaches f32's accuracy.
    const f32 = results.get('f32');
    if (dtype === 'bf16' && f32)
      assert.ok(
        r.accuracy >= f32.accuracy - 0.05,
        `bf16 accuracy ${r.accuracy} vs f32 ${f32.accuracy}`,
      );
  });
}
