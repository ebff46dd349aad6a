/**
 * The vision stem: the shipped patch-stem base still loads and gives bit-identical outputs; a
 * conv stem is validated, built, saved and reloaded with its config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, noGrad, referenceKernels, setKernels, kernels } from '../../src/engine/index.js';
import {
  BOS,
  PAD,
  TINY_CONFIG,
  VisionLanguageModel,
  decode,
  encode,
  generate,
  imageTokens,
  loadModel,
  parseModelConfig,
  saveModel,
  type ModelConfig,
  type RgbImage,
} from '../../src/model/index.js';
import { evalSamples } from '../../src/train/data.js';
import { packagePath } from '../../src/cli/paths.js';

const golden = JSON.parse(
  readFileSync(packagePath('test', 'fixtures', 'base-small-golden.json'), 'utf8'),
) as { prompts: string[]; logitsSha256: string; greedy: string[] };

function batchOf(model: VisionLanguageModel) {
  const samples = evalSamples('refer', 6, { width: 64, height: 64 }).filter((_, i) => i % 3 === 0);
  assert.deepEqual(
    samples.map((s) => s.prompt),
    golden.prompts,
  );
  const images = model.patchify(samples.map((s) => s.image));
  const prompts = samples.map((s) => [BOS, ...encode(s.prompt)]);
  const textLen = Math.max(...prompts.map((p) => p.length));
  const tokens = new Int32Array(2 * textLen).fill(PAD);
  prompts.forEach((p, i) => tokens.set(p, i * textLen));
  return { images, prompts, textLen, tokens, imageOf: new Int32Array([0, 1]) };
}

test('the shipped patch-stem base loads and gives bit-identical outputs', async () => {
  const { model } = await loadModel(packagePath('assets', 'base-small'));
  assert.equal(model.config.vision.stem.kind, 'patch');
  const b = batchOf(model);
  const active = kernels();
  setKernels(referenceKernels);
  try {
    const logits = noGrad(() => model.textLogits(b.images, b));
    const sha = createHash('sha256')
      .update(Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength))
      .digest('hex');
    assert.equal(sha, golden.logitsSha256, 'reference-kernel logits changed');
  } finally {
    setKernels(active);
  }
  if (active.name !== 'native') return;
  const g = generate(
    model,
    { images: b.images, imageOf: b.imageOf, prompts: b.prompts },
    { maxNewTokens: 160, greedy: true, rng: new Rng(1) },
  );
  assert.deepEqual(
    g.tokens.map((t) => decode(t)),
    golden.greedy,
  );
});

const CONV_TINY: ModelConfig = {
  ...TINY_CONFIG,
  name: 'tiny-conv',
  vision: {
    ...TINY_CONFIG.vision,
    stem: {
      kind: 'conv',
      norm: true,
      layers: [
        { channels: 8, stride: 1, kernel: 3 },
        { channels: 12, stride: 2, kernel: 3 },
        { channels: 16, stride: 2, kernel: 3 },
      ],
    },
  },
};

function noise(size: number, seed: number): RgbImage {
  const r = new Rng(seed);
  const data = Uint8Array.from({ length: size * size * 3 }, () => r.below(256));
  return { width: size, height: size, data };
}

test('conv stem: strides must multiply to image.patch, with a message naming the field', () => {
  const raw = JSON.parse(JSON.stringify(CONV_TINY));
  raw.vision.stem.layers[0].stride = 2;
  assert.throws(
    () => parseModelConfig(raw, 'cfg.json'),
    /cfg\.json: invalid model config: vision\.stem\.layers: the conv strides multiply to 8; they must equal image\.patch 4/,
  );
  const bad = JSON.parse(JSON.stringify(CONV_TINY));
  bad.vision.stem.kind = 'conv3d';
  assert.throws(() => parseModelConfig(bad, 'cfg.json'), /vision\.stem\.kind/);
  // a config without a stem (every checkpoint written before it existed) is the patch stem
  const old = JSON.parse(JSON.stringify(TINY_CONFIG));
  delete old.vision.stem;
  assert.deepEqual(parseModelConfig(old, 'old.json').vision.stem, { kind: 'patch' });
});

test('conv stem: parameters, token grid, save and reload give identical outputs', async () => {
  const model = VisionLanguageModel.create(parseModelConfig(CONV_TINY, 'tiny-conv'), 3);
  assert.deepEqual(model.params.get('vision.stem.0.weight')!.shape, [8, 3, 3, 3]);
  assert.deepEqual(model.params.get('vision.stem.2.weight')!.shape, [16, 3, 3, 12]);
  assert.deepEqual(model.params.get('vision.patch_embed')!.shape, [32, 16]);
  const images = model.patchify([noise(16, 1), noise(16, 2)]);
  assert.equal(images.pixels.length, 2 * 16 * 16 * 3);
  const feats = noGrad(() => model.encodeImages(images));
  assert.deepEqual(feats.shape, [2, imageTokens(CONV_TINY), CONV_TINY.decoder.width]);
  const dir = mkdtempSync(join(tmpdir(), 'visurf-stem-'));
  try {
    await saveModel(dir, model);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(cfg.vision.stem.kind, 'conv');
    assert.equal(cfg.vision.stem.layers.length, 3);
    const { model: back } = await loadModel(dir);
    const again = noGrad(() => back.encodeImages(back.patchify([noise(16, 1), noise(16, 2)])));
    assert.deepEqual(again.data, feats.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('conv stem: a shifted object shifts the features (the stem is translation-equivariant)', () => {
  // The same object at two positions one token (4 px) apart, away from the zero-padded border:
  // the stem's token under the object carries exactly the same features in both images. (A
  // patch stem only has this for shifts of whole patches; the conv stem for any shift that is a
  // multiple of its total stride, and approximately for every other one.)
  const cfg = parseModelConfig(
    { ...CONV_TINY, image: { ...CONV_TINY.image, size: 32 } },
    'tiny-conv-32',
  );
  const model = VisionLanguageModel.create(cfg, 4);
  const size = 32;
  const grid = size / cfg.image.patch;
  const draw = (ox: number): RgbImage => {
    const data = new Uint8Array(size * size * 3).fill(40);
    for (let y = 12; y < 16; y++)
      for (let x = ox; x < ox + 4; x++) data.set([250, 30, 30], (y * size + x) * 3);
    return { width: size, height: size, data };
  };
  const a = noGrad(() => model.stemFeatures(model.patchify([draw(12)])));
  const b = noGrad(() => model.stemFeatures(model.patchify([draw(16)])));
  const C = a.dim(2);
  const tok = (t: typeof a, r: number, c: number) =>
    Array.from(t.data.subarray((r * grid + c) * C, (r * grid + c + 1) * C));
  const ta = tok(a, 3, 3);
  const tb = tok(b, 3, 4);
  assert.ok(
    ta.some((v, i) => Math.abs(v - tok(a, 3, 5)[i]!) > 1e-3),
    'object token looks like background',
  );
  ta.forEach((v, i) => assert.ok(Math.abs(v - tb[i]!) < 1e-5, `feature ${i}: ${v} vs ${tb[i]}`));
});
