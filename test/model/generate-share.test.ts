/**
 * A group's G rollouts share image and prompt: generate() prefills each distinct pair once and
 * forks the KV cache. The result must equal prefilling every sequence separately.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { BOS, TINY_CONFIG, VisionLanguageModel, generate } from '../../src/model/index.js';
import { assertClose, noiseImages } from '../helpers.js';

test('shared prefill (fork the cache per group) equals a separate prefill per sequence', () => {
  const c = TINY_CONFIG;
  const model = VisionLanguageModel.create(c, 3);
  const images = model.patchify(noiseImages(3, 7, TINY_CONFIG.image.size));
  // 3 groups of G = 4, prompts of different lengths; group 2 reuses image 0 with another prompt.
  const groupPrompts = [
    [BOS, 40, 41, 42],
    [BOS, 50, 51, 52, 53, 54],
    [BOS, 60],
  ];
  const groupImage = [0, 1, 0];
  const G = 4;
  const req = {
    images,
    imageOf: Int32Array.from({ length: 3 * G }, (_, j) => groupImage[Math.floor(j / G)]!),
    prompts: Array.from({ length: 3 * G }, (_, j) => groupPrompts[Math.floor(j / G)]!),
  };
  for (const greedy of [true, false]) {
    const run = (sharePrefill: boolean) =>
      generate(model, req, {
        maxNewTokens: 10,
        greedy,
        temperature: 1,
        rng: new Rng(11),
        stopTokens: [],
        sharePrefill,
      });
    const shared = run(true);
    const separate = run(false);
    assert.deepEqual(shared.tokens, separate.tokens, `tokens (greedy=${greedy})`);
    shared.logprobs.forEach((lp, b) =>
      assertClose(lp, separate.logprobs[b]!, 1e-4, 1e-5, `logprobs of ${b}`),
    );
  }
});

test('finished sequences leave the batch: each sequence decodes as it would alone', () => {
  const c = TINY_CONFIG;
  const model = VisionLanguageModel.create(c, 5);
  const images = model.patchify(noiseImages(4, 3, TINY_CONFIG.image.size));
  const prompts = [
    [BOS, 40, 41],
    [BOS, 50],
    [BOS, 60, 61, 62, 63],
    [BOS, 70, 71],
  ];
  const imageOf = new Int32Array([0, 1, 2, 3]);
  const opts = { maxNewTokens: 12, greedy: true, rng: new Rng(0) };
  // stop on a token some replies produce early and others late or never
  const free = generate(model, { images, imageOf, prompts }, { ...opts, stopTokens: [] });
  const stopToken = free.tokens[0]![3]!;
  const stopped = generate(
    model,
    { images, imageOf, prompts },
    { ...opts, stopTokens: [stopToken] },
  );
  const lengths = stopped.tokens.map((t) => t.length);
  assert.ok(Math.min(...lengths) < Math.max(...lengths), `lengths ${lengths.join(', ')}`);
  prompts.forEach((p, b) => {
    const alone = generate(
      model,
      { images, imageOf: new Int32Array([imageOf[b]!]), prompts: [p] },
      { ...opts, stopTokens: [stopToken] },
    );
    assert.deepEqual(stopped.tokens[b], alone.tokens[0], `sequence ${b} tokens`);
    assertClose(stopped.logprobs[b]!, alone.logprobs[0]!, 1e-5, 1e-6, `sequence ${b} log-probs`);
    assert.equal(stopped.finish[b], alone.finish[0]);
  });
});
