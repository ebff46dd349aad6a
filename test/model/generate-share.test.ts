/**
 * A group's G rollouts share image and prompt: generate() prefills each distinct pair once and
 * forks the KV cache. The result must equal prefilling every sequence separately.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { BOS, TINY_CONFIG, VisionLanguageModel, generate } from '../../src/model/index.js';
import { assertClose } from '../helpers.js';

test('shared prefill (fork the cache per group) equals a separate prefill per sequence', () => {
  const c = TINY_CONFIG;
  const model = VisionLanguageModel.create(c, 3);
  const r = new Rng(7);
  const img = () => ({
    width: c.image.size,
    height: c.image.size,
    data: Uint8Array.from({ length: c.image.size ** 2 * 3 }, () => r.below(256)),
  });
  const images = model.patchify([img(), img(), img()]);
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
