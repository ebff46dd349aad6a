/**
 * Batched generation with a KV cache: one prefill over [image][prompt] for every sequence, then
 * one decoder step per new token, each sequence appending at its own position (prompts may have
 * different lengths; no padding enters the cache that a sequence can see).
 */
import {
  BufferArena,
  type KvCacheArray,
  type MatmulDtype,
  Rng,
  ShapeError,
  Tensor,
  embedding,
  getMatmulDtype,
  kernels,
  noGrad,
  profiling,
  recordPhase,
  withArena,
} from '../engine/index.js';
import { imageTokens } from './config.js';
import { ANSWER_CLOSE, EOS, PAD } from './tokenizer.js';
import type { ImageBatch, VisionLanguageModel } from './vlm.js';

export interface SamplingOptions {
  maxNewTokens: number;
  /** 0 or greedy = argmax */
  temperature?: number;
  /** nucleus sampling mass (1 = off) */
  topP?: number;
  /** keep the k most likely tokens (0 = off) */
  topK?: number;
  greedy?: boolean;
  /** tokens that end a response (kept as its last token); default <eos> and </answer> */
  stopTokens?: readonly number[];
  rng: Rng;
  /**
   * Prefill each distinct (image, prompt) once and fork its KV cache to every sequence that shares
   * it (the G rollouts of a group). Default true; false prefills every sequence (for comparison).
   */
  sharePrefill?: boolean;
  /**
   * observe each step's logits [batch, vocab] before sampling (tests, debugging): one buffer,
   * overwritten every step (copy what you keep); the rows of stopped sequences are stale
   */
  onStepLogits?: (step: number, logits: Float32Array) => void;
}

export interface GenerationRequest {
  images: ImageBatch;
  /** image of each sequence */
  imageOf: Int32Array;
  /** prompt token ids of each sequence (starting with <bos>) */
  prompts: readonly (readonly number[])[];
}

export type FinishReason = 'stop' | 'length';

export interface Generation {
  /** response token ids per sequence (including the stop token, if any) */
  tokens: number[][];
  /** log-probability of each sampled token under the temperature-scaled distribution */
  logprobs: Float32Array[];
  finish: FinishReason[];
}

/** Log-softmax of logits/temperature into out (f64), returns nothing. */
function logSoftmax(logits: Float32Array, temperature: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) max = Math.max(max, logits[j]! / temperature);
  let sum = 0;
  for (let j = 0; j < logits.length; j++) sum += Math.exp(logits[j]! / temperature - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < logits.length; j++) out[j] = logits[j]! / temperature - lse;
}

/**
 * Whether sampling keeps only some tokens (top-k or nucleus). Plain and greedy sampling run as one
 * batched kernel call per step (`sampleTokens`); truncated sampling row by row in JS.
 */
function truncates(opts: Pick<SamplingOptions, 'topP' | 'topK'>, vocab: number): boolean {
  const topK = opts.topK ?? 0;
  return (topK > 0 && topK < vocab) || (opts.topP ?? 1) < 1;
}

/**
 * Top-k / nucleus sampling from one row of logits (temperature > 0); returns [token, logprob],
 * the log-probability under the full temperature-scaled distribution.
 */
function sampleTruncated(
  logits: Float32Array,
  opts: Pick<SamplingOptions, 'temperature' | 'topP' | 'topK'>,
  rng: Rng,
  scratch: Float64Array,
): [number, number] {
  logSoftmax(logits, opts.temperature ?? 1, scratch);
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  const order = Array.from({ length: logits.length }, (_, j) => j).sort(
    (a, b) => scratch[b]! - scratch[a]!,
  );
  let keep = topK > 0 ? Math.min(topK, order.length) : order.length;
  if (topP < 1) {
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += Math.exp(scratch[order[i]!]!);
      if (mass >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const candidates = order.slice(0, keep);
  let total = 0;
  for (const j of candidates) total += Math.exp(scratch[j]!);
  let u = rng.next() * total;
  for (const j of candidates) {
    u -= Math.exp(scratch[j]!);
    if (u <= 0) return [j, scratch[j]!];
  }
  const last = candidates[candidates.length - 1]!;
  return [last, scratch[last]!];
}

/**
 * Per-layer KV cache laid out [batch, cap, heads, headDim]: f32, or bf16 when the model's
 * products run in bf16 (each step streams the whole visible cache; bf16 halves those bytes, and
 * the bf16 products already round k and v to bf16).
 */
class KvCache {
  readonly k: KvCacheArray[];
  readonly v: KvCacheArray[];
  private readonly identity: Int32Array;
  private readonly zeros: Int32Array;
  constructor(
    layers: number,
    readonly batch: number,
    readonly cap: number,
    readonly width: number,
    dtype: MatmulDtype,
  ) {
    const make = () =>
      dtype === 'bf16'
        ? new Uint16Array(batch * cap * width)
        : new Float32Array(batch * cap * width);
    this.k = Array.from({ length: layers }, make);
    this.v = Array.from({ length: layers }, make);
    this.identity = Int32Array.from({ length: batch }, (_, b) => b);
    this.zeros = new Int32Array(batch);
  }

  /**
   * Store positions [0, seq) of a prefill's roped qkv [prefilled, seq, 3*width]: sequence b takes
   * prefilled row source[b] (the fork of a shared prefill).
   */
  storePrefill(layer: number, qkv: Tensor, source: Int32Array): void {
    const T = qkv.shape[1]!;
    kernels().kvStore(
      qkv.data,
      this.k[layer]!,
      this.v[layer]!,
      this.batch,
      T,
      this.width,
      this.cap,
      source,
      this.identity,
      this.zeros,
    );
  }

  /**
   * Store one new token per row, row r being sequence seqOf[r], at position pos[r];
   * qkv: [rows, 3*width].
   */
  storeStep(
    layer: number,
    qkv: Float32Array,
    rows: number,
    seqOf: Int32Array,
    pos: Int32Array,
  ): void {
    kernels().kvStore(
      qkv,
      this.k[layer]!,
      this.v[layer]!,
      rows,
      1,
      this.width,
      this.cap,
      this.identity,
      seqOf,
      pos,
    );
  }
}

/**
 * Sample responses for a batch of (image, prompt) pairs. Runs without recording gradients.
 */
export function generate(
  model: VisionLanguageModel,
  req: GenerationRequest,
  opts: SamplingOptions,
): Generation {
  return noGrad(() => generateNoGrad(model, req, opts));
}

function generateNoGrad(
  model: VisionLanguageModel,
  req: GenerationRequest,
  opts: SamplingOptions,
): Generation {
  const c = model.config;
  const B = req.prompts.length;
  if (req.imageOf.length !== B)
    throw new ShapeError(`generate: ${req.imageOf.length} image indices for ${B} prompts`);
  const nImg = imageTokens(c);
  const promptLens = req.prompts.map((p) => p.length);
  const maxPrompt = Math.max(...promptLens);
  if (Math.min(...promptLens) < 1)
    throw new ShapeError('generate: every prompt needs at least one token (<bos>)');
  if (maxPrompt > c.maxPromptTokens) {
    throw new ShapeError(
      `generate: a prompt has ${maxPrompt} tokens; the model's budget is ${c.maxPromptTokens}`,
    );
  }
  const maxNew = opts.maxNewTokens;
  // prompt-first: [prompt, left-padded to maxPromptTokens][image] then the response, which the
  // prefill's right padding would also occupy (overwritten as the response grows)
  const promptFirst = c.decoder.promptFirst === true;
  const prefixLen = promptFirst ? c.maxPromptTokens + nImg : 0;
  const cap = promptFirst ? prefixLen + maxPrompt + maxNew : nImg + maxPrompt + maxNew;
  const W = c.decoder.width;
  const H = c.decoder.heads;
  const cache = new KvCache(c.decoder.layers, B, cap, W, getMatmulDtype());
  const K = kernels();
  const stop = new Set(opts.stopTokens ?? [EOS, ANSWER_CLOSE]);

  // Prefill: [image][prompt, right-padded]; the logits at each prompt's last token give its
  // first response token. Sequences with the same image and prompt (a group's G rollouts) share
  // one prefill: it runs once per distinct pair and its cache rows are copied to each member.
  const source = new Int32Array(B); // the prefilled row of each sequence
  const firsts: number[] = []; // a representative sequence of each prefilled row
  const seen = new Map<string, number>();
  for (let b = 0; b < B; b++) {
    const key =
      opts.sharePrefill === false ? String(b) : `${req.imageOf[b]}:${req.prompts[b]!.join(',')}`;
    let u = seen.get(key);
    if (u === undefined) {
      u = firsts.length;
      seen.set(key, u);
      firsts.push(b);
    }
    source[b] = u;
  }
  const U = firsts.length;
  const tokens = new Int32Array(U * maxPrompt).fill(PAD);
  firsts.forEach((b, u) => tokens.set(req.prompts[b]!, u * maxPrompt));
  const features = model.encodeImages(req.images);
  const hidden = model.decode(
    features,
    {
      imageOf: Int32Array.from(firsts, (b) => req.imageOf[b]!),
      tokens,
      textLen: maxPrompt,
      promptLens: Int32Array.from(firsts, (b) => promptLens[b]!),
    },
    model.decoderBlocks.map((_, l) => (qkv: Tensor) => cache.storePrefill(l, qkv, source)),
  );
  const T0 = hidden.dim(1);
  // the position whose logits give each sequence's first response token: its prompt's last
  // token, or for prompt-first the last image token
  const lastPos = (b: number) => (promptFirst ? prefixLen - 1 : nImg + promptLens[b]! - 1);
  const last = new Float32Array(B * W);
  for (let b = 0; b < B; b++) {
    const row = source[b]! * T0 + lastPos(b);
    last.set(hidden.data.subarray(row * W, (row + 1) * W), b * W);
  }
  const V = c.vocab;
  // this step's logits [B, V], kept outside the step arena (sampling reads them after it)
  const logits = new Float32Array(B * V);
  logits.set(model.head(new Tensor(last, [B, W])).data);

  const out: Generation = {
    tokens: Array.from({ length: B }, () => []),
    logprobs: Array.from({ length: B }, () => new Float32Array(maxNew)),
    finish: new Array<FinishReason>(B).fill('length'),
  };
  const done = new Uint8Array(B);
  const pos = Int32Array.from(promptLens, (_, b) => lastPos(b) + 1); // where each next token goes
  // The rows of a decoding step are the sequences still generating (seqOf: row -> sequence):
  // a finished sequence costs nothing, which matters in RL, where a group's replies end at very
  // different lengths.
  const seqOf = new Int32Array(B);
  const rowTokens = new Int32Array(B);
  const rowPos = new Int32Array(B);
  const rowLens = new Int32Array(B);
  const scratch = new Float64Array(V);
  const temperature = opts.temperature ?? 1;
  const greedy = opts.greedy === true || temperature <= 0;
  const truncated = !greedy && truncates(opts, V);
  const active = new Int32Array(B); // the sequences still generating, in order
  const uniforms = new Float64Array(B);
  const sampled = new Int32Array(B);
  const sampledLogprob = new Float32Array(B);
  const embed = model.params.get('embed')!;
  const attnOut = new Float32Array(B * W);
  // every buffer of a step is pooled: they are all small (one token per sequence)
  const stepArena = new BufferArena(1 << 10);

  for (let step = 0; step < maxNew; step++) {
    opts.onStepLogits?.(step, logits);
    let live = 0;
    for (let b = 0; b < B; b++) if (!done[b]) active[live++] = b;
    if (truncated) {
      // JS, so timed here as a phase (the kernel below is timed by the profiler itself)
      const tSample = profiling() ? performance.now() : 0;
      for (let i = 0; i < live; i++) {
        const b = active[i]!;
        const row = logits.subarray(b * V, (b + 1) * V);
        [sampled[i], sampledLogprob[i]] = sampleTruncated(row, opts, opts.rng, scratch);
      }
      if (tSample) recordPhase('sampling', (performance.now() - tSample) / 1000);
    } else {
      if (!greedy) for (let i = 0; i < live; i++) uniforms[i] = opts.rng.next();
      K.sampleTokens(
        logits,
        V,
        live,
        active,
        greedy ? 0 : temperature,
        uniforms,
        sampled,
        sampledLogprob,
      );
    }
    let rows = 0;
    for (let i = 0; i < live; i++) {
      const b = active[i]!;
      const tok = sampled[i]!;
      const lp = sampledLogprob[i]!;
      out.tokens[b]!.push(tok);
      out.logprobs[b]![step] = lp;
      if (stop.has(tok)) {
        done[b] = 1;
        out.finish[b] = 'stop';
        continue;
      }
      seqOf[rows] = b;
      rowTokens[rows] = tok;
      rowPos[rows] = pos[b]!;
      rowLens[rows] = pos[b]! + 1;
      rows++;
    }
    if (rows === 0 || step === maxNew - 1) break;
    // One decoder step for the rows still generating. Its buffers come from one arena reused
    // every step: fresh ones cost zero-filling, page faults and garbage collection, which
    // measured as most of the decode loop's time outside kernels.
    withArena(stepArena, () => {
      const rowPosView = rowPos.subarray(0, rows);
      let x = embedding(embed, rowTokens.subarray(0, rows), [rows, 1]);
      for (let l = 0; l < model.decoderBlocks.length; l++) {
        const blk = model.decoderBlocks[l]!;
        const qkv = model.blockQkv(x, blk, H, rowPosView);
        cache.storeStep(l, qkv.data, rows, seqOf, rowPos);
        const att = attnOut.subarray(0, rows * W);
        K.attentionDecode(
          qkv.data,
          cache.k[l]!,
          cache.v[l]!,
          att,
          rows,
          H,
          W / H,
          cap,
          rowLens,
          seqOf,
        );
        x = model.blockRest(x, new Tensor(att, [rows, 1, W]), blk);
      }
      // each row's logits into its sequence's slot (finished sequences' slots go stale)
      const rowLogits = model.head(x).data;
      for (let r = 0; r < rows; r++)
        logits.set(rowLogits.subarray(r * V, (r + 1) * V), seqOf[r]! * V);
    });
    for (let r = 0; r < rows; r++) pos[seqOf[r]!]!++;
  }
  out.logprobs = out.logprobs.map((lp, b) => lp.slice(0, out.tokens[b]!.length));
  return out;
}
