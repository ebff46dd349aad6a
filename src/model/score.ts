/**
 * Teacher-forced scoring: per-token log-probabilities (and entropies) of given responses after
 * given prompts, batched and padded. Used for the current policy (with gradients), the old
 * policy and a frozen reference (without).
 */
import { ShapeError, type Tensor, reshape, tokenLogprobs } from '../engine/index.js';
import { PAD } from './tokenizer.js';
import type { ImageBatch, TextBatch, VisionLanguageModel } from './vlm.js';

export interface ScoringBatch {
  text: TextBatch;
  /** per text position: the response token to score there, or -1 */
  targets: Int32Array;
  /** index into the flat [batch*textLen] layout of each sequence's first response token */
  responseStart: Int32Array;
  responseLength: Int32Array;
}

/** Lay out [prompt][response] per sequence, right-padded, with scoring targets. */
export function buildScoringBatch(
  imageOf: Int32Array,
  prompts: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
): ScoringBatch {
  const B = prompts.length;
  if (responses.length !== B || imageOf.length !== B) {
    throw new ShapeError(
      `buildScoringBatch: ${B} prompts, ${responses.length} responses, ${imageOf.length} images`,
    );
  }
  const textLen = Math.max(1, ...prompts.map((p, b) => p.length + responses[b]!.length));
  const tokens = new Int32Array(B * textLen).fill(PAD);
  const targets = new Int32Array(B * textLen).fill(-1);
  const responseStart = new Int32Array(B);
  const responseLength = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const p = prompts[b]!;
    const r = responses[b]!;
    if (p.length < 1)
      throw new ShapeError(`buildScoringBatch: prompt ${b} is empty (needs at least <bos>)`);
    const o = b * textLen;
    tokens.set(p, o);
    tokens.set(r, o + p.length);
    for (let i = 0; i < r.length; i++) targets[o + p.length + i] = r[i]!;
    responseStart[b] = o + p.length;
    responseLength[b] = r.length;
  }
  const promptLens = Int32Array.from(prompts, (p) => p.length);
  return {
    text: { imageOf, tokens, textLen, promptLens },
    targets,
    responseStart,
    responseLength,
  };
}

export interface ResponseScores {
  /** log π(token) at every text position ([batch, textLen]; 0 where not scored) */
  logp: Tensor;
  entropy: Tensor | null;
  batch: ScoringBatch;
}

/**
 * Score responses under model. Gradients are recorded unless called inside noGrad, so the same
 * function serves the policy update and the old/reference log-probs.
 */
export function scoreResponses(
  model: VisionLanguageModel,
  images: ImageBatch,
  batch: ScoringBatch,
  withEntropy = false,
): ResponseScores {
  const logits = model.textLogits(images, batch.text);
  const V = model.config.vocab;
  const flat = reshape(logits, [-1, V]);
  const { logp, entropy } = tokenLogprobs(flat, batch.targets, withEntropy);
  return { logp, entropy, batch };
}

/** Per-sequence response values out of a [batch*textLen] array. */
export function responseValues(values: Float32Array, batch: ScoringBatch): Float32Array[] {
  return Array.from(batch.responseStart, (s, b) => values.slice(s, s + batch.responseLength[b]!));
}

/** Response values packed end to end ([Σ responseLength]), the layout of the loss functions. */
export function packResponses(values: Float32Array, batch: ScoringBatch): Float64Array {
  const total = batch.responseLength.reduce((a, b) => a + b, 0);
  const out = new Float64Array(total);
  let o = 0;
  batch.responseStart.forEach((s, b) => {
    for (let i = 0; i < batch.responseLength[b]!; i++) out[o++] = values[s + i]!;
  });
  return out;
}

/** The inverse of packResponses: packed values placed at their text positions (0 elsewhere). */
export function unpackResponses(packed: ArrayLike<number>, batch: ScoringBatch): Float32Array {
  const out = new Float32Array(batch.targets.length);
  let o = 0;
  batch.responseStart.forEach((s, b) => {
    for (let i = 0; i < batch.responseLength[b]!; i++) out[s + i] = packed[o++]!;
  });
  return out;
}
