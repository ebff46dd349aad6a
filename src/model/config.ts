/**
 * Model configuration: a typed, validated description of the vision-language model's sizes.
 * Two named configs ship: `bench` (exactly ../shared/BENCH.md) and `small` (the default, which
 * trains quickly on a 2-core CPU).
 */
import { z } from 'zod';
import { BYTE_TOKENIZER, Tokenizer, USED_VOCAB } from './tokenizer.js';

/** One convolution of the vision stem: kernel x kernel, zero padding floor(kernel/2), then GELU. */
const ConvLayerSchema = z
  .object({
    channels: z.number().int().positive(),
    stride: z.number().int().positive(),
    kernel: z.number().int().positive().default(3),
  })
  .strict();
export type ConvLayer = z.infer<typeof ConvLayerSchema>;

/**
 * How pixels become encoder tokens.
 * - `patch`: each patch x patch block is flattened and mapped by one linear layer (a ViT stem).
 *   Trained from scratch it is not translation-invariant: every shape must be learned at every
 *   offset against the patch grid, and at this data scale the encoder stays nearly blind.
 * - `conv`: a few convolutions (each followed by an optional per-pixel channel RMSNorm and
 *   GELU) whose strides multiply to `image.patch`, so the token grid is the same; the existing
 *   linear `patch_embed` then maps the last conv channels to the encoder width.
 */
const StemSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('patch') }).strict(),
  z
    .object({
      kind: z.literal('conv'),
      layers: z.array(ConvLayerSchema).min(1),
      /** RMSNorm over channels at every pixel, before each GELU */
      norm: z.boolean().default(false),
    })
    .strict(),
]);
export type StemConfig = z.infer<typeof StemSchema>;

/** Most prompt or response tokens a model config may ask for. */
export const MAX_TEXT_TOKENS = 32_768;
/** Most word tokens a config may list (bounds the vocabulary a hand-edited config can ask for). */
export const MAX_WORD_TOKENS = 4096;

export const ModelConfigSchema = z
  .object({
    name: z.string().min(1),
    image: z
      .object({
        size: z.number().int().positive(),
        patch: z.number().int().positive(),
        channels: z.literal(3),
      })
      .strict(),
    vision: z
      .object({
        width: z.number().int().positive(),
        layers: z.number().int().positive(),
        heads: z.number().int().positive(),
        hidden: z.number().int().positive(),
        /**
         * Learned row and column embeddings added to the patch embeddings. The encoder's RoPE
         * runs over the raster patch index, which says little about 2-D position; grounding
         * (writing a box's pixel coordinates) needs an explicit row/column code. Off by default
         * so checkpoints written before the field existed still load unchanged.
         */
        gridEmbedding: z.boolean().default(false),
        /** the pixel-to-token stem; absent in checkpoints written before it existed: `patch` */
        stem: StemSchema.default({ kind: 'patch' }),
      })
      .strict(),
    decoder: z
      .object({
        width: z.number().int().positive(),
        layers: z.number().int().positive(),
        heads: z.number().int().positive(),
        hidden: z.number().int().positive(),
        ropeBase: z.number().positive(),
        /**
         * Lay each sequence out as [prompt][image][response] instead of [image][prompt][response]:
         * the prompt, left-padded to maxPromptTokens, comes first, so every image token can attend
         * to the question and the decoder's image features become question-aware (the job
         * InstructBLIP's instruction-aware Q-Former or PaliGemma's prefix attention do). Absent in
         * checkpoints written before it existed: image first.
         */
        promptFirst: z.boolean().optional(),
      })
      .strict(),
    vocab: z.number().int().min(USED_VOCAB),
    /**
     * One token per integer pixel position (0..image.size-1) for numbers in text, instead of
     * their byte digits (see tokenizer.ts); vocab must then hold them. `true`: every standalone
     * integer; `'positions'`: only integers inside ( ) or [ ], so the quantities of count and
     * chart traces keep their byte digits and do not share tokens with positions. Off when
     * absent (every checkpoint written before it existed).
     */
    coordTokens: z.union([z.boolean(), z.literal('positions')]).default(false),
    /**
     * Words that get one token each (colour and shape names, say: see tokenizer.ts), ids after
     * the coordinate tokens; vocab must hold them. Absent in every checkpoint written before it
     * existed, and then nothing changes.
     */
    words: z.array(z.string()).max(MAX_WORD_TOKENS).optional(),
    // bounded so that a damaged or hand-edited config cannot size buffers past memory
    maxPromptTokens: z.number().int().positive().max(MAX_TEXT_TOKENS),
    maxResponseTokens: z.number().int().positive().max(MAX_TEXT_TOKENS),
    normEps: z.number().positive(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.image.size % c.image.patch !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['image', 'patch'],
        message: `patch ${c.image.patch} does not divide image size ${c.image.size}`,
      });
    }
    const stem = c.vision.stem;
    if (stem.kind === 'conv') {
      const total = stem.layers.reduce((a, l) => a * l.stride, 1);
      if (total !== c.image.patch) {
        ctx.addIssue({
          code: 'custom',
          path: ['vision', 'stem', 'layers'],
          message: `the conv strides multiply to ${total}; they must equal image.patch ${c.image.patch} (the token grid's stride)`,
        });
      }
    }
    let tokenizer: Tokenizer | undefined;
    try {
      tokenizer = tokenizerOf(c);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['words'], message: (e as Error).message });
    }
    const need = tokenizer?.usedVocab ?? 0;
    if (c.vocab < need) {
      const coords = tokenizer!.coordinates;
      const words = tokenizer!.words.length;
      ctx.addIssue({
        code: 'custom',
        path: ['vocab'],
        message: `vocab ${c.vocab} is smaller than the ${need} ids the tokenizer uses (${coords} coordinate tokens${words ? `, ${words} word tokens` : ''})`,
      });
    }
    for (const part of ['vision', 'decoder'] as const) {
      const p = c[part];
      if (p.width % p.heads !== 0 || (p.width / p.heads) % 2 !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: [part, 'heads'],
          message: `width ${p.width} must split into ${p.heads} heads of even size`,
        });
      }
    }
  });

export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** ../shared/BENCH.md: ≈5.96 M parameters, 64 image + 32 prompt + 64 response tokens. */
export const BENCH_CONFIG: ModelConfig = {
  name: 'bench',
  image: { size: 64, patch: 8, channels: 3 },
  vision: {
    width: 192,
    layers: 2,
    heads: 4,
    hidden: 512,
    gridEmbedding: false,
    stem: { kind: 'patch' },
  },
  decoder: { width: 256, layers: 6, heads: 8, hidden: 704, ropeBase: 10000 },
  vocab: 320,
  coordTokens: false,
  maxPromptTokens: 32,
  maxResponseTokens: 64,
  normEps: 1e-6,
};

/** The default: small enough to pre-train and post-train in minutes on 2 cores. */
export const SMALL_CONFIG: ModelConfig = {
  name: 'small',
  image: { size: 64, patch: 8, channels: 3 },
  vision: {
    width: 96,
    layers: 2,
    heads: 4,
    hidden: 256,
    gridEmbedding: true,
    stem: { kind: 'patch' },
  },
  decoder: { width: 128, layers: 4, heads: 4, hidden: 352, ropeBase: 10000 },
  vocab: 320,
  coordTokens: false,
  // <bos> + the task suite's prompts (at most 32 bytes) + margin
  maxPromptTokens: 36,
  // byte tokens: a two-object referring answer with its <think> trace is ~150 tokens
  maxResponseTokens: 160,
  normEps: 1e-6,
};

/**
 * `small` with a convolutional stem (four 3x3 convolutions, 3 -> 32 -> 64 -> 96 -> 96 channels,
 * strides 1, 2, 2, 2: the same 8x8 token grid), the shipped base model's architecture.
 */
export const SMALL_CONV_CONFIG: ModelConfig = {
  ...SMALL_CONFIG,
  name: 'small-conv',
  // byte tokens: a three-object referring answer with its <think> trace is up to 205 tokens
  // (160 cut one refer reply in six short); the decoder has no learned positions, so this only
  // caps generation and sizes the memory estimate
  maxResponseTokens: 224,
  vision: {
    ...SMALL_CONFIG.vision,
    stem: {
      kind: 'conv',
      norm: false,
      layers: [
        { channels: 32, stride: 1, kernel: 3 },
        { channels: 64, stride: 2, kernel: 3 },
        { channels: 96, stride: 2, kernel: 3 },
        { channels: 96, stride: 2, kernel: 3 },
      ],
    },
  },
};

/** A tiny config for tests. */
export const TINY_CONFIG: ModelConfig = {
  name: 'tiny',
  image: { size: 16, patch: 4, channels: 3 },
  vision: {
    width: 32,
    layers: 1,
    heads: 2,
    hidden: 64,
    gridEmbedding: true,
    stem: { kind: 'patch' },
  },
  decoder: { width: 48, layers: 2, heads: 4, hidden: 96, ropeBase: 10000 },
  vocab: 320,
  coordTokens: false,
  maxPromptTokens: 36,
  maxResponseTokens: 24,
  normEps: 1e-6,
};

export const NAMED_CONFIGS: Readonly<Record<string, ModelConfig>> = {
  bench: BENCH_CONFIG,
  small: SMALL_CONFIG,
  'small-conv': SMALL_CONV_CONFIG,
  tiny: TINY_CONFIG,
};

/** Validate an untrusted config (e.g. a checkpoint's config.json), with readable errors. */
export function parseModelConfig(raw: unknown, source: string): ModelConfig {
  const r = ModelConfigSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`${source}: invalid model config: ${issues}`);
  }
  return r.data;
}

/**
 * The tokenizer a model config implies (coordinate tokens for its image size, if enabled, and its
 * word tokens). Throws on an invalid word list (parseModelConfig reports it as a config error).
 */
export function tokenizerOf(c: Pick<ModelConfig, 'coordTokens' | 'image' | 'words'>): Tokenizer {
  const words = c.words ?? [];
  if (c.coordTokens === false && words.length === 0) return BYTE_TOKENIZER;
  const coords = c.coordTokens === false ? 0 : c.image.size;
  const scope = c.coordTokens === 'positions' ? 'positions' : 'integers';
  const key = `${coords}/${scope}/${words.join(',')}`;
  let t = tokenizers.get(key);
  if (t === undefined) tokenizers.set(key, (t = new Tokenizer(coords, scope, words)));
  return t;
}

/** Tokenizers by what defines them: every call site asks per sample, the word map is built once. */
const tokenizers = new Map<string, Tokenizer>();

export function imageTokens(c: ModelConfig): number {
  return (c.image.size / c.image.patch) ** 2;
}

/** Longest sequence the model handles: image tokens + prompt + response. */
export function maxSequence(c: ModelConfig): number {
  return imageTokens(c) + c.maxPromptTokens + c.maxResponseTokens;
}
