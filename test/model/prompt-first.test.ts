/**
 * The prompt-first layout (decoder.promptFirst): [prompt, left-padded][image][response]. Sampling
 * and teacher-forced scoring must agree on it, a sequence's scores must not depend on what else
 * is in its batch, and the decoder's image features must depend on the question (the point of
 * the layout); without promptFirst the model is unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad } from '../../src/engine/index.js';
import {
  BOS,
  TINY_CONFIG,
  VisionLanguageModel,
  buildScoringBatch,
  generate,
  imageTokens,
  responseValues,
  scoreResponses,
  type ModelConfig,
} from '../../src/model/index.js';
import { assertClose, noiseImages } from '../helpers.js';

const PROMPT_FIRST: ModelConfig = {
  ...TINY_CONFIG,
  decoder: { ...TINY_CONFIG.decoder, promptFirst: true },
  maxPromptTokens: 8,
};

test('prompt-first: sampled log-probabilities equal teacher-forced scores of the same tokens', () => {
  const model = VisionLanguageModel.create(PROMPT_FIRST, 5);
  const images = model.patchify(noiseImages(2, 9, TINY_CONFIG.image.size));
  const prompts = [[BOS, 40, 41, 42], [BOS], [BOS, 50, 51, 52, 53, 54, 55]];
  const imageOf = new Int32Array([0, 1, 0]);
  const gen = noGrad(() =>
    generate(model, { images, imageOf, prompts }, { maxNewTokens: 10, rng: new Rng(3) }),
  );
  const batch = buildScoringBatch(imageOf, prompts, gen.tokens);
  const scored = noGrad(() => scoreResponses(model, images, batch));
  responseValues(scored.logp.data, batch).forEach((lp, b) => {
    assert.equal(lp.length, gen.tokens[b]!.length);
    assertClose(lp, gen.logprobs[b]!.subarray(0, lp.length), 2e-4, 1e-5, `sequence ${b}`);
  });
});

test('prompt-first: a sequence scores the same alone and in a batch of longer prompts and replies', () => {
  const model = VisionLanguageModel.create(PROMPT_FIRST, 6);
  const images = model.patchify(noiseImages(2, 10, TINY_CONFIG.image.size));
  const prompt = [BOS, 44, 45];
  const reply = [60, 61, 62];
  const alone = buildScoringBatch(new Int32Array([0]), [prompt], [reply]);
  const mixed = buildScoringBatch(
    new Int32Array([1, 0]),
    [[BOS, 70, 71, 72, 73, 74, 75], prompt],
    [[80, 81, 82, 83, 84, 85, 86, 87], reply],
  );
  const a = noGrad(() => responseValues(scoreResponses(model, images, alone).logp.data, alone));
  const m = noGrad(() => responseValues(scoreResponses(model, images, mixed).logp.data, mixed));
  assertClose(m[1]!, a[0]!, 1e-5, 1e-6, 'same sequence, other batch');
});

test('prompt-first: image tokens see the question; image-first: they do not', () => {
  const hiddenAtImage = (c: ModelConfig, prompt: number[]) => {
    const model = VisionLanguageModel.create(c, 7);
    const images = model.patchify(noiseImages(1, 11, TINY_CONFIG.image.size));
    const batch = buildScoringBatch(new Int32Array([0]), [prompt], [[60]]);
    return noGrad(() => {
      const h = model.decode(model.encodeImages(images), batch.text);
      // the first image token: position 0 image-first, maxPromptTokens prompt-first
      const pos = c.decoder.promptFirst ? c.maxPromptTokens : 0;
      const W = c.decoder.width;
      return h.data.slice(pos * W, (pos + 1) * W);
    });
  };
  const differ = (a: Float32Array, b: Float32Array) => a.some((v, i) => Math.abs(v - b[i]!) > 1e-4);
  for (const c of [TINY_CONFIG, PROMPT_FIRST]) {
    const x = hiddenAtImage(c, [BOS, 40, 41]);
    const y = hiddenAtImage(c, [BOS, 90, 91]);
    assert.equal(
      differ(x, y),
      c.decoder.promptFirst === true,
      c.decoder.promptFirst ? 'prompt-first' : 'image-first',
    );
  }
  assert.equal(imageTokens(PROMPT_FIRST), imageTokens(TINY_CONFIG));
});

test('prompt-first: a batch without prompt lengths, or a prompt over the budget, is a clear error', () => {
  const model = VisionLanguageModel.create(PROMPT_FIRST, 8);
  const images = model.patchify(noiseImages(1, 12, TINY_CONFIG.image.size));
  const batch = buildScoringBatch(new Int32Array([0]), [[BOS, 40]], [[60]]);
  const { promptLens: _, ...without } = batch.text;
  assert.throws(
    () => noGrad(() => model.textLogits(images, without)),
    /prompt-first model needs each of the 1 sequences' prompt length/,
  );
  const long = buildScoringBatch(new Int32Array([0]), [[BOS, 1, 2, 3, 4, 5, 6, 7, 8]], [[60]]);
  assert.throws(
    () => noGrad(() => model.textLogits(images, long.text)),
    /prompt 0 has length 9; it must be 1\.\.8/,
  );
});
