/**
 * Up-front memory check: estimate the peak memory of a training config before the first step and
 * refuse configs that cannot fit, with the estimate and a setting that would fit, instead of
 * finding out hours in (or being killed by the OOM killer mid-step).
 *
 * The estimate is the largest of three phases, each on top of a fixed runtime baseline and the
 * resident parameter state:
 * - resident: weights, gradients, AdamW m and v (4 × 4 bytes per parameter), the gradient snapshot
 *   ViSurf takes to split RL/SFT norms, a frozen reference model when klCoef > 0, and the transient
 *   serialisation buffers of a checkpoint save;
 * - generation: the KV cache (layers × 2 × sequences × positions × width, f32 or bf16) of all
 *   promptsPerStep × groupSize rollouts, plus one layer of prefill activations and attention
 *   probabilities (B·H·T²);
 * - update: one micro-batch of sequences with every layer's activations kept for backward
 *   (≈ T·(13·width + 3·hidden) + H·T² floats per layer and sequence), the same again for their
 *   gradients, the logits / log-softmax over the vocabulary, and the vision encoder over the
 *   step's images; plus the larger of what the buffer arena may keep between steps (buffers of
 *   other sequence lengths, capped at one working set by trimArena below) and the not yet
 *   collected garbage of the step's earlier micro-batches.
 * The estimate is deliberately on the high side (see docs/RELIABILITY.md for how it compares with
 * measured peak RSS). It is a check, not an allocator.
 */
import { existsSync, readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { imageTokens, type ModelConfig } from '../model/config.js';
import { convOutputSize, type BufferArena } from '../engine/index.js';
import { blockActivationFloats, parameterSpecs } from '../model/vlm.js';
import { responseBudget, type TrainConfig } from './config.js';
import { scheduleOf } from './paradigms/index.js';

/** Memory the runtime itself takes (V8, oneDNN, sharp, code) before any model is built. */
export const BASELINE_BYTES = 96 * 2 ** 20;
/** Only this fraction of the available memory is planned for. */
export const SAFETY_FRACTION = 0.85;
/** Environment: a memory budget in MiB that replaces the detected available memory. */
export const BUDGET_ENV = 'VISURF_MEMORY_BUDGET_MB';
/** Environment: `off` skips the check (at the user's risk). */
export const CHECK_ENV = 'VISURF_MEMORY_CHECK';

const F32 = 4;

export interface MemoryEstimate {
  /** estimated peak resident bytes of the whole process */
  total: number;
  baseline: number;
  /**
   * parameters, gradients, optimizer state, snapshots, reference model, checkpoint buffers, and
   * a dataset's samples held at the model's input size
   */
  resident: number;
  /** the dataset's samples (data.path) and validation rows (data.valPath), part of resident */
  dataset: number;
  /** rollout generation: KV cache + prefill */
  generation: number;
  kvCache: number;
  /** one update micro-batch: activations and their gradients */
  update: number;
  /** what the buffer arena may keep between steps (the trimArena limit) */
  arenaRetained: number;
  /** evaluation generation (greedy, eval.size sequences per task) */
  evaluation: number;
  /** sequences in the largest forward/backward micro-batch */
  microBatchSequences: number;
  /** sequences generated at once */
  rolloutSequences: number;
  peakPhase: 'generation' | 'update' | 'evaluation';
}

/** Parameter count of a model config (the same as VisionLanguageModel.parameterCount()). */
export function modelParameterCount(c: ModelConfig): number {
  return parameterSpecs(c).reduce((n, p) => n + p.shape.reduce((a, d) => a * d, 1), 0);
}

/** Floats a conv stem keeps per image for backward: each layer's conv, norm and GELU outputs. */
function stemActivations(c: ModelConfig): number {
  const stem = c.vision.stem;
  if (stem.kind === 'patch') return 0;
  let size = c.image.size;
  let floats = size * size * 3;
  for (const l of stem.layers) {
    size = convOutputSize(size, l.kernel, l.stride, Math.floor(l.kernel / 2));
    floats += (stem.norm ? 3 : 2) * size * size * l.channels;
  }
  return floats;
}

/** Floats one transformer layer keeps for backward, per sequence of T tokens (model/vlm.ts). */
const layerActivations = blockActivationFloats;

/** The paradigms a config's method may run (the estimate takes the largest of each part). */
function paradigmsOf(cfg: TrainConfig) {
  return scheduleOf(cfg.method).paradigms;
}

/**
 * Bytes a dataset sample takes once resized to the model's input: its RGB image, about one
 * object mask, its strings and object records.
 */
export function datasetSampleBytes(model: ModelConfig): number {
  const px = model.image.size * model.image.size;
  return 3 * px + px + 1024;
}

/** Peak-memory estimate of a training config on a model (see the module comment). */
export function estimateMemory(
  cfg: TrainConfig,
  model: ModelConfig,
  /** rows of data.path (0 for generated data, which is made one step at a time) */
  datasetRows = 0,
  /** bytes of the validation rows (data.valPath) held for the whole run */
  validationBytes = 0,
): MemoryEstimate {
  const c = model;
  const P = modelParameterCount(c);
  const nImg = imageTokens(c);
  const W = c.decoder.width;
  const maxNew = responseBudget(cfg, c);
  const G = cfg.rollout.groupSize;
  const prompts = cfg.promptsPerStep;

  const paradigms = paradigmsOf(cfg);
  const samples = paradigms.some((p) => p.samplesRollouts);
  let resident = P * F32 * 4; // weights, grads, m, v
  // gradient snapshot for the RL/SFT norm split, in a step with both rollouts and labels
  if (paradigms.some((p) => p.samplesRollouts && p.injectsLabels)) resident += P * F32;
  if (cfg.loss.klCoef > 0) resident += P * F32 * 2; // frozen reference (+ its build copy)
  resident += P * F32 * 3; // checkpoint save: weights + m + v serialised
  const dataset = datasetRows * datasetSampleBytes(c) + validationBytes; // held for the whole run
  resident += dataset;

  // Generation: all prompts × G at once.
  const rolloutSequences = samples ? prompts * G : 0;
  // a prompt-first prefill is [prompt slots][image][the prompts' right padding] (model/generate.ts)
  const T0 = nImg + c.maxPromptTokens * (c.decoder.promptFirst ? 2 : 1);
  const cap = T0 + maxNew;
  const genOf = (B: number) => {
    // bf16 products keep a bf16 cache (model/generate.ts)
    const kv = c.decoder.layers * 2 * B * cap * W * (cfg.model.precision === 'bf16' ? 2 : F32);
    // one layer's prefill activations live at a time (no graph is kept while sampling)
    const prefill = 2 * B * layerActivations(T0, W, c.decoder.hidden, c.decoder.heads) * F32;
    const vision =
      2 *
      Math.min(B, prompts) *
      (layerActivations(nImg, c.vision.width, c.vision.hidden, c.vision.heads) +
        stemActivations(c)) *
      F32;
    return { kv, total: kv + prefill + vision + B * c.vocab * 8 };
  };
  const gen = genOf(rolloutSequences);

  // Update: the largest micro-batch. Rollouts and labels are chunked separately.
  const rollouts = rolloutSequences;
  const labels = paradigms.some((p) => p.injectsLabels) ? prompts : 0;
  const largestGroup = Math.max(rollouts, labels);
  const micro = cfg.microBatch > 0 ? Math.min(cfg.microBatch, largestGroup) : largestGroup;
  const textLen = c.maxPromptTokens + c.maxResponseTokens + 1;
  const T = nImg + textLen;
  const perSeq =
    c.decoder.layers * layerActivations(T, W, c.decoder.hidden, c.decoder.heads) +
    3 * T * W + // embedding, image rows, concat
    textLen * (2 * W + 4 * c.vocab); // final norm, logits, log-softmax, entropy
  const visionPerImage =
    c.vision.layers * layerActivations(nImg, c.vision.width, c.vision.hidden, c.vision.heads) +
    3 * nImg * c.vision.width +
    stemActivations(c);
  const update = 2 * (micro * perSeq + prompts * visionPerImage) * F32; // ×2: gradients of every kept activation

  const evaluation = genOf(cfg.eval.size).total;
  // On top of the live micro-batch: the buffer arena may keep up to one more working set of other
  // sizes between steps (trimArena below caps it at `update`), and the garbage of the step's
  // earlier micro-batches (buffers too small to pool) may not have been collected yet. Whichever
  // is larger.
  const chunks = (n: number) =>
    n === 0 ? 0 : cfg.microBatch > 0 ? Math.ceil(n / cfg.microBatch) : 1;
  const stepAllocation =
    2 *
    ((rollouts + labels) * perSeq +
      (chunks(rollouts) + chunks(labels)) * prompts * visionPerImage) *
    F32;
  const arenaRetained = update;
  const phases = {
    generation: gen.total,
    update: update + Math.max(arenaRetained, stepAllocation - update),
    evaluation,
  } as const;
  const peakPhase = (Object.keys(phases) as (keyof typeof phases)[]).reduce((a, b) =>
    phases[b] > phases[a] ? b : a,
  );
  return {
    total: BASELINE_BYTES + resident + phases[peakPhase],
    baseline: BASELINE_BYTES,
    resident,
    generation: gen.total,
    kvCache: gen.kv,
    update,
    arenaRetained,
    evaluation,
    microBatchSequences: micro,
    rolloutSequences,
    dataset,
    peakPhase,
  };
}

/** Bytes of memory this process may still use: MemAvailable (or free memory), capped by a cgroup limit. */
export function availableMemory(env: NodeJS.ProcessEnv = process.env): {
  bytes: number;
  source: string;
} {
  const budget = env[BUDGET_ENV];
  if (budget !== undefined && budget !== '') {
    const mb = Number(budget);
    if (!Number.isFinite(mb) || mb <= 0)
      throw new Error(`${BUDGET_ENV}=${budget}: expected a positive number of MiB`);
    return { bytes: mb * 2 ** 20, source: `${BUDGET_ENV}=${budget}` };
  }
  let bytes = freemem();
  let source = 'free memory';
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) {
      bytes = Number(m[1]) * 1024;
      source = 'MemAvailable';
    }
  } catch {
    /* not Linux */
  }
  try {
    const max = '/sys/fs/cgroup/memory.max';
    if (existsSync(max)) {
      const limit = readFileSync(max, 'utf8').trim();
      if (limit !== 'max') {
        const current = Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim());
        const room = Number(limit) - current;
        if (Number.isFinite(room) && room < bytes) {
          bytes = Math.max(0, room);
          source = 'cgroup memory.max';
        }
      }
    }
  } catch {
    /* no cgroup v2 */
  }
  // What this process already holds is part of the estimate's baseline: count it as available.
  return { bytes: bytes + process.memoryUsage().rss, source };
}

export class ResourceError extends Error {
  override name = 'ResourceError';
  constructor(
    message: string,
    readonly estimate: MemoryEstimate,
    readonly available: number,
    readonly suggestion: string,
  ) {
    super(message);
  }
}

const gib = (b: number) =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`;

/** A change of microBatch or promptsPerStep (with microBatch) whose estimate fits, as --set flags. */
export function suggestFit(cfg: TrainConfig, model: ModelConfig, budget: number): string {
  const fits = (c: TrainConfig) => estimateMemory(c, model).total <= budget;
  const current = estimateMemory(cfg, model).microBatchSequences;
  // Largest micro-batch that fits. Not monotonic (smaller micro-batches re-run the vision encoder
  // more often), so scan; the estimate is a closed form.
  for (let m = current - 1; m >= 1; m--)
    if (fits({ ...cfg, microBatch: m })) return `--set microBatch=${m}`;
  const withMicro = (p: number): TrainConfig => ({
    ...cfg,
    promptsPerStep: p,
    microBatch: Math.min(cfg.microBatch || 8, 8),
  });
  if (fits(withMicro(1))) {
    let lo = 1;
    let hi = cfg.promptsPerStep;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(withMicro(mid))) lo = mid;
      else hi = mid - 1;
    }
    return `--set promptsPerStep=${lo} --set microBatch=${withMicro(lo).microBatch}`;
  }
  return 'a smaller model (model.init) or a machine with more memory';
}

/**
 * Throw a ResourceError before training when the config's estimated peak exceeds the available
 * memory (times SAFETY_FRACTION). `VISURF_MEMORY_CHECK=off` skips it.
 */
export function checkResources(
  cfg: TrainConfig,
  model: ModelConfig,
  env: NodeJS.ProcessEnv = process.env,
  datasetRows = 0,
  validationBytes = 0,
): MemoryEstimate {
  const est = estimateMemory(cfg, model, datasetRows, validationBytes);
  if (env[CHECK_ENV] === 'off') return est;
  const avail = availableMemory(env);
  const budget = avail.bytes * SAFETY_FRACTION;
  if (est.total <= budget) return est;
  const suggestion = suggestFit(cfg, model, budget);
  throw new ResourceError(
    `not enough memory for this config: estimated peak ${gib(est.total)}, reached during the ${est.peakPhase} ` +
      `(generation ${gib(est.generation)} incl. KV cache ${gib(est.kvCache)} for ${est.rolloutSequences} rollouts, ` +
      `update ${gib(est.update)} for micro-batches of ${est.microBatchSequences} sequences, ` +
      `parameters + optimizer${est.dataset > 0 ? ` + dataset ${gib(est.dataset)}` : ''} ${gib(est.resident)}), but only ${gib(avail.bytes)} is available (${avail.source}; planning for ${Math.round(SAFETY_FRACTION * 100)}%). ` +
      `Try ${suggestion}. (${CHECK_ENV}=off skips this check.)`,
    est,
    avail.bytes,
    suggestion,
  );
}

/**
 * Bound the buffer arena between steps. The arena keeps every buffer size it has seen for reuse,
 * and a step's sizes depend on its sequence lengths, so over a run it accumulates one working
 * set per distinct length: measured on the tiny model (16 prompts × 8 rollouts) peak RSS went
 * 301 → 787 MB in 8 steps. When the arena holds more than `limit` bytes (the estimated working
 * set of one update, resources.ts `arenaRetained`) its free buffers are dropped; the next step
 * allocates afresh. Call only between steps (nothing from the arena is in use then).
 */
export function trimArena(arena: BufferArena, limit: number): boolean {
  if (arena.bytes <= limit) return false;
  arena.clear();
  return true;
}
