/**
 * The vision-language model: a ViT-style patch encoder (optional learned row + column
 * embeddings, bidirectional pre-norm blocks, RoPE over the patch index), an RMSNorm + linear projector into the decoder width, and a decoder LM
 * (pre-norm RMSNorm, fused QKV with RoPE, causal attention, SwiGLU, untied head).
 *
 * A sequence is [image tokens][text tokens]: the text starts with <bos>, then the prompt, then
 * the response; batches are right-padded with <pad>, so no attention mask beyond causality is
 * needed (a padded position only ever sees earlier, real tokens, and is excluded from losses).
 */
import type { RgbImage } from '../engine/image.js';
import {
  ATTENTION_ROW_STATS,
  Rng,
  ShapeError,
  Tensor,
  add,
  attention,
  concat,
  conv2d,
  embedding,
  gelu,
  gatherRows,
  linear,
  noGrad,
  reshape,
  rmsnorm,
  rope,
  slice,
  swiglu,
} from '../engine/index.js';
import { type ModelConfig, imageTokens } from './config.js';
import { PAD } from './tokenizer.js';

/** The parameters of one transformer block. */
export interface BlockParams {
  norm1: Tensor;
  qkv: Tensor;
  out: Tensor;
  norm2: Tensor;
  w13: Tensor;
  w2: Tensor;
}

/** RGB images as the encoder's input, pixels scaled to [-1, 1]. */
export interface ImageBatch {
  /**
   * patch stem: [count, patches, patch*patch*3] (each patch flattened, raster order);
   * conv stem: [count, size, size, 3] (NHWC, the convolutions' layout)
   */
  pixels: Float32Array;
  count: number;
}

/**
 * The images that some sequences show, and each sequence's index into them. A micro-batch then
 * encodes only its own images, not the whole step's. When every image is used the batch is
 * returned unchanged (same indices, no copy).
 */
export function selectImages(
  images: ImageBatch,
  imageOf: ArrayLike<number>,
): { images: ImageBatch; imageOf: Int32Array } {
  const used = [...new Set(Array.from(imageOf))];
  if (used.length === images.count) return { images, imageOf: Int32Array.from(imageOf) };
  const per = images.pixels.length / images.count;
  const index = new Map(used.map((img, i) => [img, i]));
  const pixels = new Float32Array(used.length * per);
  used.forEach((img, i) => pixels.set(images.pixels.subarray(img * per, (img + 1) * per), i * per));
  return {
    images: { pixels, count: used.length },
    imageOf: Int32Array.from(imageOf, (i) => index.get(i)!),
  };
}

export type { RgbImage };

export interface TextBatch {
  /** which image each sequence shows: [batch] (images may be shared, e.g. by a rollout group) */
  imageOf: Int32Array;
  /** text token ids after the image, right-padded: [batch, textLen] */
  tokens: Int32Array;
  textLen: number;
  /**
   * each sequence's prompt length (the first promptLens[b] of its tokens): a prompt-first model
   * (decoder.promptFirst) places the prompt before the image and needs it; others ignore it
   */
  promptLens?: Int32Array;
}

export type WeightRecord = Record<string, { shape: number[]; data: Float32Array }>;

function blockNames(prefix: string): Array<[keyof BlockParams, string]> {
  return (['norm1', 'qkv', 'out', 'norm2', 'w13', 'w2'] as const).map((k) => [k, `${prefix}.${k}`]);
}

/** One parameter: its name (checkpoint key), shape and initialisation. */
export interface ParameterSpec {
  name: string;
  shape: number[];
  init: Init;
}

/**
 * Every parameter of a config, in the fixed order checkpoints and the optimizer rely on. The
 * architecture's shapes are stated here once; the model, the memory estimate and the parameter
 * count all derive from this list.
 */
export function parameterSpecs(c: ModelConfig): ParameterSpec[] {
  const specs: ParameterSpec[] = [];
  const add = (name: string, shape: number[], init: Init) => specs.push({ name, shape, init });
  const block = (prefix: string, w: number, hidden: number, layers: number) => {
    const resid = 1 / Math.sqrt(2 * layers);
    const shapes: Record<keyof BlockParams, [number[], Init]> = {
      norm1: [[w], { kind: 'ones' }],
      qkv: [[3 * w, w], { kind: 'normal', std: 1 / Math.sqrt(w) }],
      out: [[w, w], { kind: 'normal', std: resid / Math.sqrt(w) }],
      norm2: [[w], { kind: 'ones' }],
      w13: [[2 * hidden, w], { kind: 'normal', std: 1 / Math.sqrt(w) }],
      w2: [[w, hidden], { kind: 'normal', std: resid / Math.sqrt(hidden) }],
    };
    for (const [key, name] of blockNames(prefix)) add(name, ...shapes[key]);
  };
  const stem = c.vision.stem;
  let embedIn = c.image.patch * c.image.patch * 3;
  if (stem.kind === 'conv') {
    let cin = 3;
    stem.layers.forEach((l, i) => {
      const fanIn = l.kernel * l.kernel * cin;
      // He initialisation: GELU keeps about half of the signal, as ReLU does
      add(`vision.stem.${i}.weight`, [l.channels, l.kernel, l.kernel, cin], {
        kind: 'normal',
        std: Math.sqrt(2 / fanIn),
      });
      add(`vision.stem.${i}.bias`, [l.channels], { kind: 'zeros' });
      if (stem.norm) add(`vision.stem.${i}.norm`, [l.channels], { kind: 'ones' });
      cin = l.channels;
    });
    embedIn = cin;
  }
  add('vision.patch_embed', [c.vision.width, embedIn], {
    kind: 'normal',
    std: 1 / Math.sqrt(embedIn),
  });
  if (c.vision.gridEmbedding) {
    const grid = c.image.size / c.image.patch;
    // about the scale of a patch embedding, so positions are distinguishable from step one
    add('vision.row_embed', [grid, c.vision.width], { kind: 'normal', std: 0.3 });
    add('vision.col_embed', [grid, c.vision.width], { kind: 'normal', std: 0.3 });
  }
  for (let l = 0; l < c.vision.layers; l++) {
    block(`vision.blocks.${l}`, c.vision.width, c.vision.hidden, c.vision.layers);
  }
  add('projector.norm', [c.vision.width], { kind: 'ones' });
  add('projector.linear', [c.decoder.width, c.vision.width], {
    kind: 'normal',
    std: 1 / Math.sqrt(c.vision.width),
  });
  add('embed', [c.vocab, c.decoder.width], { kind: 'normal', std: 1 });
  for (let l = 0; l < c.decoder.layers; l++) {
    block(`blocks.${l}`, c.decoder.width, c.decoder.hidden, c.decoder.layers);
  }
  add('norm', [c.decoder.width], { kind: 'ones' });
  add('head', [c.vocab, c.decoder.width], { kind: 'normal', std: 0.02 });
  return specs;
}

export class VisionLanguageModel {
  readonly config: ModelConfig;
  /** every parameter by name, in a fixed order (checkpoints and the optimizer rely on it) */
  readonly params: Map<string, Tensor>;
  readonly visionBlocks: BlockParams[] = [];
  readonly decoderBlocks: BlockParams[] = [];

  private constructor(
    config: ModelConfig,
    make: (name: string, shape: number[], init: Init) => Tensor,
  ) {
    this.config = config;
    this.params = new Map();
    for (const spec of parameterSpecs(config)) {
      const t = make(spec.name, spec.shape, spec.init);
      t.name = spec.name;
      this.params.set(spec.name, t);
    }
    const block = (prefix: string): BlockParams => {
      const b = {} as BlockParams;
      for (const [key, name] of blockNames(prefix)) b[key] = this.p(name);
      return b;
    };
    for (let l = 0; l < config.vision.layers; l++)
      this.visionBlocks.push(block(`vision.blocks.${l}`));
    for (let l = 0; l < config.decoder.layers; l++) this.decoderBlocks.push(block(`blocks.${l}`));
  }

  /** A freshly initialised model, deterministic for a seed. */
  static create(config: ModelConfig, seed: number): VisionLanguageModel {
    const rng = new Rng(seed);
    return new VisionLanguageModel(config, (_name, shape, init) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (init.kind === 'ones') data.fill(1);
      else if (init.kind === 'normal')
        for (let i = 0; i < n; i++) data[i] = rng.normal() * init.std;
      return Tensor.param(data, shape);
    });
  }

  /** A model from saved weights; every expected tensor must be present with its exact shape. */
  static fromWeights(
    config: ModelConfig,
    weights: WeightRecord,
    source = 'weights',
  ): VisionLanguageModel {
    const expected = new Set<string>();
    const model = new VisionLanguageModel(config, (name, shape) => {
      expected.add(name);
      const w = weights[name];
      if (!w)
        throw new ShapeError(`${source}: missing tensor "${name}" (shape [${shape.join(', ')}])`);
      if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
        throw new ShapeError(
          `${source}: tensor "${name}" has shape [${w.shape.join(', ')}], the config needs [${shape.join(', ')}]`,
        );
      }
      return Tensor.param(w.data.slice(), shape);
    });
    const extra = Object.keys(weights).filter((k) => !expected.has(k));
    if (extra.length > 0)
      throw new ShapeError(
        `${source}: unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`,
      );
    return model;
  }

  /** Weights as a plain record (for checkpoints). */
  weights(): WeightRecord {
    const out: WeightRecord = {};
    for (const [name, t] of this.params) out[name] = { shape: [...t.shape], data: t.data };
    return out;
  }

  parameterList(): Tensor[] {
    return [...this.params.values()];
  }

  parameterCount(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.size;
    return n;
  }

  private p(name: string): Tensor {
    return this.params.get(name)!;
  }

  /** Turn RGB images (all of the configured size) into the encoder's input (see ImageBatch). */
  patchify(images: readonly RgbImage[]): ImageBatch {
    const { size } = this.config.image;
    // A conv stem reads whole images; the patch stem reads size x size "patches" of one pixel
    // row-major, which is the same NHWC layout, so only the patch stem reorders.
    const patch = this.config.vision.stem.kind === 'conv' ? 1 : this.config.image.patch;
    const grid = size / patch;
    const patchDim = patch * patch * 3;
    const out = new Float32Array(images.length * size * size * 3);
    images.forEach((img, n) => {
      if (img.width !== size || img.height !== size || img.data.length !== size * size * 3) {
        throw new ShapeError(
          `patchify: image ${n} is ${img.width}x${img.height} (${img.data.length} bytes); the model expects ${size}x${size} RGB`,
        );
      }
      for (let gy = 0; gy < grid; gy++)
        for (let gx = 0; gx < grid; gx++) {
          let o = ((n * grid + gy) * grid + gx) * patchDim;
          for (let y = 0; y < patch; y++)
            for (let x = 0; x < patch; x++) {
              const src = ((gy * patch + y) * size + gx * patch + x) * 3;
              for (let ch = 0; ch < 3; ch++) out[o++] = (img.data[src + ch]! / 255) * 2 - 1;
            }
        }
    });
    return { pixels: out, count: images.length };
  }

  /** Image features in the decoder's width: [count, imageTokens, decoder.width]. */
  encodeImages(images: ImageBatch): Tensor {
    const c = this.config;
    const x = this.visionFeatures(images);
    return linear(rmsnorm(x, this.p('projector.norm'), c.normEps), this.p('projector.linear'));
  }

  /** The vision encoder's output before the projector: [count, imageTokens, vision.width]. */
  visionFeatures(images: ImageBatch): Tensor {
    const c = this.config;
    const n = imageTokens(c);
    let x = linear(this.stemFeatures(images), this.p('vision.patch_embed'));
    if (c.vision.gridEmbedding) x = add(x, this.gridEmbedding());
    const positions = new Int32Array(images.count * n).map((_, i) => i % n);
    for (const b of this.visionBlocks) {
      x = this.block(x, b, c.vision.heads, positions, false);
    }
    return x;
  }

  /** The stem's output, one feature vector per token: [count, imageTokens, features]. */
  stemFeatures(images: ImageBatch): Tensor {
    const c = this.config;
    const stem = c.vision.stem;
    const n = imageTokens(c);
    if (stem.kind === 'patch') {
      const patchDim = c.image.patch * c.image.patch * 3;
      return new Tensor(images.pixels, [images.count, n, patchDim]);
    }
    let x = new Tensor(images.pixels, [images.count, c.image.size, c.image.size, 3]);
    stem.layers.forEach((l, i) => {
      const pre = `vision.stem.${i}`;
      x = conv2d(x, this.p(`${pre}.weight`), this.p(`${pre}.bias`), {
        stride: l.stride,
        padding: Math.floor(l.kernel / 2),
      });
      if (stem.norm) x = rmsnorm(x, this.p(`${pre}.norm`), c.normEps);
      x = gelu(x);
    });
    // NHWC [count, grid, grid, channels] is already raster-ordered tokens
    return reshape(x, [images.count, n, x.dim(3)]);
  }

  /** Row embedding + column embedding of every patch, in raster order: [imageTokens, width]. */
  private gridEmbedding(): Tensor {
    const grid = this.config.image.size / this.config.image.patch;
    const rows = new Int32Array(grid * grid).map((_, i) => Math.floor(i / grid));
    const cols = new Int32Array(grid * grid).map((_, i) => i % grid);
    return add(
      gatherRows(this.p('vision.row_embed'), rows),
      gatherRows(this.p('vision.col_embed'), cols),
    );
  }

  /**
   * One pre-norm transformer block. x: [batch, seq, width]. Its two halves are also used apart
   * by KV-cached generation (generate.ts), which attends over its cache in between.
   */
  block(
    x: Tensor,
    b: BlockParams,
    heads: number,
    positions: Int32Array,
    causal: boolean,
    kv?: KvSink,
  ): Tensor {
    const qkv = this.blockQkv(x, b, heads, positions);
    kv?.(qkv);
    return this.blockRest(x, attention(qkv, { heads, causal }), b);
  }

  /** The block's normed, fused and roped q, k, v of x: [batch, seq, 3 · width]. */
  blockQkv(x: Tensor, b: BlockParams, heads: number, positions: Int32Array): Tensor {
    const headDim = x.dim(-1) / heads;
    return rope(linear(rmsnorm(x, b.norm1, this.config.normEps), b.qkv), positions, {
      vecsPerRow: 3 * heads,
      rotated: 2 * heads,
      headDim,
      base: this.config.decoder.ropeBase,
    });
  }

  /** The rest of the block from the attention's output: projection, residual, SwiGLU MLP, residual. */
  blockRest(x: Tensor, attended: Tensor, b: BlockParams): Tensor {
    x = add(x, linear(attended, b.out));
    return add(x, linear(swiglu(linear(rmsnorm(x, b.norm2, this.config.normEps), b.w13)), b.w2));
  }

  /**
   * Decoder hidden states for each sequence: [batch, seq, width], seq = imageTokens + textLen
   * laid out [image][text]; for a prompt-first model (decoder.promptFirst) [prompt, left-padded
   * to maxPromptTokens][image][response, right-padded] (see textRows for where each text token
   * sits). imageFeatures: encodeImages() output; kvSinks (generation) receive each layer's roped
   * qkv.
   */
  decode(imageFeatures: Tensor, batch: TextBatch, kvSinks?: KvSink[]): Tensor {
    const c = this.config;
    const B = batch.imageOf.length;
    if (batch.tokens.length !== B * batch.textLen) {
      throw new ShapeError(
        `decode: ${batch.tokens.length} tokens for ${B} sequences of ${batch.textLen}`,
      );
    }
    const img = gatherRows(imageFeatures, batch.imageOf);
    const embed = this.p('embed');
    let x: Tensor;
    if (!c.decoder.promptFirst) {
      x = concat([img, embedding(embed, batch.tokens, [B, batch.textLen])], 1);
    } else {
      const { prefix, response, responseLen } = splitPromptFirst(c, batch);
      const parts = [embedding(embed, prefix, [B, c.maxPromptTokens]), img];
      if (responseLen > 0) parts.push(embedding(embed, response, [B, responseLen]));
      x = concat(parts, 1);
    }
    const T = x.dim(1);
    const positions = new Int32Array(B * T).map((_, i) => i % T);
    this.decoderBlocks.forEach((b, l) => {
      x = this.block(x, b, c.decoder.heads, positions, true, kvSinks?.[l]);
    });
    return x;
  }

  /** Final norm and head over hidden states [..., width] -> logits [..., vocab]. */
  head(hidden: Tensor): Tensor {
    return linear(rmsnorm(hidden, this.p('norm'), this.config.normEps), this.p('head'));
  }

  /**
   * Logits predicting each text token: logits[b, i] is the distribution of tokens[b, i] given
   * the image and tokens[b, < i]. Shape [batch, textLen, vocab].
   */
  textLogits(images: ImageBatch, batch: TextBatch): Tensor {
    const nImg = imageTokens(this.config);
    const hidden = this.decode(this.encodeImages(images), batch);
    if (!this.config.decoder.promptFirst) {
      // Position nImg-1+i (the token before text token i) predicts text token i.
      return this.head(slice(hidden, 1, nImg - 1, nImg - 1 + batch.textLen));
    }
    // the position before each text token's predicts it (the first response token's: the last
    // image token); the first prompt token is never scored, any row serves it
    const B = batch.imageOf.length;
    const T = hidden.dim(1);
    const rows = textRows(this.config, batch, T).map((r) => (r % T === 0 ? r : r - 1));
    const W = this.config.decoder.width;
    const before = gatherRows(reshape(hidden, [B * T, W]), rows);
    return this.head(reshape(before, [B, batch.textLen, W]));
  }

  /** Copy of the weights into a frozen model (the reference / old policy). */
  frozenCopy(): VisionLanguageModel {
    return noGrad(() => {
      const w = this.weights();
      const copy = VisionLanguageModel.fromWeights(this.config, w);
      return copy;
    });
  }
}

type Init = { kind: 'ones' } | { kind: 'zeros' } | { kind: 'normal'; std: number };

/** Receives one layer's roped fused qkv [batch, seq, 3*width] during a prefill. */
export type KvSink = (qkv: Tensor) => void;

/**
 * Floats one block (block() above: blockQkv, attention, blockRest) keeps for its backward, per
 * sequence of T tokens — the memory estimate's unit (train/resources.ts), read off the ops:
 * rmsnorm (W), linear qkv (3W), rope (3W), attention row statistics (heads·ATTENTION_ROW_STATS
 * per token: its probabilities are recomputed in backward) and output (W), linear out (W), add
 * (W), rmsnorm (W), linear w13 (2·hidden), swiglu (hidden), linear w2 (W), add (W) —
 * 13W + 3·hidden + 2·heads per token.
 */
export function blockActivationFloats(
  T: number,
  width: number,
  hidden: number,
  heads: number,
): number {
  const perToken = {
    norm1: width,
    qkv: 3 * width,
    rope: 3 * width,
    attentionOut: width,
    out: width,
    residual1: width,
    norm2: width,
    w13: 2 * hidden,
    swiglu: hidden,
    w2: width,
    residual2: width,
  };
  const stats = heads * T * ATTENTION_ROW_STATS;
  return T * Object.values(perToken).reduce((a, b) => a + b, 0) + stats;
}

/**
 * A prompt-first batch's decoder input ids: each prompt left-padded to maxPromptTokens (so it
 * ends just before the image, at the same distance for every sequence and batch) and each
 * response right-padded to the batch's longest.
 */
function splitPromptFirst(
  c: ModelConfig,
  batch: TextBatch,
): { prefix: Int32Array; response: Int32Array; responseLen: number } {
  const B = batch.imageOf.length;
  const P = c.maxPromptTokens;
  const L = batch.textLen;
  const lens = promptLensOf(c, batch);
  const responseLen = Math.max(0, ...Array.from(lens, (p) => L - p));
  const prefix = new Int32Array(B * P).fill(PAD);
  const response = new Int32Array(B * responseLen).fill(PAD);
  for (let b = 0; b < B; b++) {
    const p = lens[b]!;
    prefix.set(batch.tokens.subarray(b * L, b * L + p), b * P + P - p);
    response.set(batch.tokens.subarray(b * L + p, (b + 1) * L), b * responseLen);
  }
  return { prefix, response, responseLen };
}

function promptLensOf(c: ModelConfig, batch: TextBatch): Int32Array {
  const lens = batch.promptLens;
  const B = batch.imageOf.length;
  if (!lens || lens.length !== B)
    throw new ShapeError(
      `decode: a prompt-first model needs each of the ${B} sequences' prompt length (TextBatch.promptLens)`,
    );
  for (let b = 0; b < B; b++)
    if (lens[b]! < 1 || lens[b]! > c.maxPromptTokens || lens[b]! > batch.textLen)
      throw new ShapeError(
        `decode: prompt ${b} has length ${lens[b]}; it must be 1..${Math.min(c.maxPromptTokens, batch.textLen)}`,
      );
  return lens;
}

/**
 * Where each text token of a batch sits in the decoder's hidden states [batch * seq]: row
 * b * seq + position of tokens[b, i], for either layout (seq: decode()'s sequence length).
 */
function textRows(c: ModelConfig, batch: TextBatch, seq: number): Int32Array {
  const B = batch.imageOf.length;
  const L = batch.textLen;
  const nImg = imageTokens(c);
  const rows = new Int32Array(B * L);
  const P = c.maxPromptTokens;
  const lens = c.decoder.promptFirst ? promptLensOf(c, batch) : null;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < L; i++) {
      const p = lens ? lens[b]! : 0;
      const pos = !lens ? nImg + i : i < p ? P - p + i : P + nImg + i - p;
      rows[b * L + i] = b * seq + pos;
    }
  return rows;
}
