/**
 * The BENCH.md model measurements on the `bench` config:
 * - train_step: forward, backward and AdamW (global grad-norm clip 1.0) over 144 sequences of
 *   160 tokens (16 prompts x (8 rollouts + 1 label)), loss = clipped surrogate on the response
 *   tokens' log-probs; tokens/s = 144*160 / step seconds, median of >= 3 steps after a warm-up.
 * - rollout: 128 sequences, prefill image + prompt, then 64 new tokens each at temperature 1
 *   with the KV cache; new tokens/s.
 * - rollout_demo: the same on the demo's work (the shipped base's config, 8 prompts x G = 8).
 * Every sequence's image is encoded (no sharing of the 16 distinct images), as a plain
 * implementation would do, so the work matches the PyTorch reference. Run each in its own
 * process (`visurf bench` does) so peak_rss_mb is that benchmark's own high-water mark.
 */
import {
  AdamW,
  BufferArena,
  Rng,
  backward,
  kernels,
  setKernels,
  withArena,
  withMatmulDtype,
  type MatmulDtype,
} from '../engine/index.js';
import {
  profileKernels,
  stopProfiling,
  summarizeProfile,
  type ProfileSummary,
} from '../engine/index.js';
import { benchMatmul } from './matmul.js';
import { policyLoss } from '../algorithms/index.js';
import {
  BENCH_CONFIG,
  BOS,
  SMALL_CONV_CONFIG,
  promptTokens,
  VisionLanguageModel,
  buildScoringBatch,
  imageTokens,
  type ModelConfig,
  generate,
  packResponses,
  scoreResponses,
  unpackResponses,
  type RgbImage,
} from '../model/index.js';
import { generateMixed } from '../tasks/index.js';
import { median, peakRssMb } from './measure.js';

function randomImage(size: number, r: Rng): RgbImage {
  return {
    width: size,
    height: size,
    data: Uint8Array.from({ length: size * size * 3 }, () => r.below(256)),
  };
}

export interface ModelBenchResult {
  name: 'train_step' | 'rollout' | 'rollout_demo';
  dtype: MatmulDtype;
  tokens_per_s?: number;
  new_tokens_per_s?: number;
  step_seconds?: number[];
  seconds?: number;
  run_seconds?: number[];
  peak_rss_mb: number;
  /** with profiling: time per op kind, per step (train) or per rollout batch */
  profile?: ProfileSummary;
}

/**
 * Run `measure` with every kernel call timed (after its own warm-up, which `measure` does
 * before calling `startTimed`). The matmul ceiling for utilisation is the dtype's 1024³
 * product, measured in the same process just before.
 */
function profiled<T extends ModelBenchResult>(
  dtype: MatmulDtype,
  measure: (startTimed: () => void) => { result: T; wall: number; per: number },
): T {
  const ceiling = benchMatmul(1024, dtype).gflops;
  const inner = kernels();
  const { kernels: wrapped, profile } = profileKernels(inner);
  setKernels(wrapped);
  try {
    const { result, wall, per } = measure(() => profile.reset());
    return { ...result, profile: summarizeProfile(profile, wall, ceiling, per) };
  } finally {
    stopProfiling();
    setKernels(inner);
  }
}

export function benchTrainStep(
  dtype: MatmulDtype,
  steps = 3,
  onStep?: (i: number, s: number) => void,
  profile = false,
): ModelBenchResult {
  if (profile) {
    return profiled(dtype, (startTimed) => {
      let wall = 0;
      const result = trainStep(dtype, steps, (i, s) => {
        onStep?.(i, s);
        if (i === 0) startTimed();
        else wall += s;
      });
      return { result, wall, per: steps };
    });
  }
  return trainStep(dtype, steps, onStep);
}

/** The work of one train step: BENCH.md's is 16 prompts x (8 rollouts + 1 label) on BENCH_CONFIG. */
export interface TrainStepShape {
  config: ModelConfig;
  prompts: number;
  /** sequences per prompt (rollouts + label) */
  group: number;
}
const BENCH_STEP: TrainStepShape = { config: BENCH_CONFIG, prompts: 16, group: 9 };

export function trainStep(
  dtype: MatmulDtype,
  steps: number,
  onStep?: (i: number, s: number) => void,
  shape: TrainStepShape = BENCH_STEP,
): ModelBenchResult & { arena_mb: number } {
  return withMatmulDtype(dtype, () => {
    const c = shape.config;
    const r = new Rng(1);
    const model = VisionLanguageModel.create(c, 0);
    const opt = new AdamW(model.parameterList(), { lr: 1e-5, weightDecay: 0.01, maxGradNorm: 1.0 });
    const { prompts, group } = shape;
    const B = prompts * group;
    const distinct = Array.from({ length: prompts }, () => randomImage(c.image.size, r));
    const images = model.patchify(
      Array.from({ length: B }, (_, i) => distinct[Math.floor(i / group)]!),
    );
    const promptTokens = Array.from({ length: prompts }, () => [
      BOS,
      ...Array.from({ length: c.maxPromptTokens - 1 }, () => 32 + r.below(90)),
    ]);
    const responses = Array.from({ length: B }, () =>
      Array.from({ length: c.maxResponseTokens }, () => 32 + r.below(90)),
    );
    const batch = buildScoringBatch(
      Int32Array.from({ length: B }, (_, i) => i),
      Array.from({ length: B }, (_, i) => promptTokens[Math.floor(i / group)]!),
      responses,
    );
    const seqLengths = Array.from(batch.responseLength);
    const advantages = Float64Array.from({ length: B }, () => r.normal());
    const times: number[] = [];
    const arena = new BufferArena();
    for (let i = 0; i < steps + 1; i++) {
      const t0 = performance.now();
      withArena(arena, () => {
        const { logp } = scoreResponses(model, images, batch);
        const packed = packResponses(logp.data, batch);
        const oldLogp = packed.map((v) => v + 0.01 * r.normal());
        const { dLossDLogp } = policyLoss({ logp: packed, oldLogp, advantages, seqLengths });
        opt.zeroGrad();
        backward(logp, unpackResponses(dLossDLogp, batch));
        opt.step();
      });
      const s = (performance.now() - t0) / 1000;
      if (i > 0) times.push(s); // the first step is the warm-up
      onStep?.(i, s);
    }
    const step = median(times);
    return {
      name: 'train_step',
      dtype,
      tokens_per_s: Math.round(
        (B * (c.maxPromptTokens + c.maxResponseTokens + imageTokens(c))) / step,
      ),
      step_seconds: times.map((t) => Math.round(t * 1000) / 1000),
      peak_rss_mb: peakRssMb(),
      // the step arena: every activation and (at its peak) gradient buffer of a step
      arena_mb: Math.round(arena.bytes / 2 ** 20),
    };
  });
}

/** One rollout benchmark's work: a model config, its images and one prompt per sequence. */
interface RolloutWork {
  name: 'rollout' | 'rollout_demo';
  config: ModelConfig;
  images: RgbImage[];
  imageOf: Int32Array;
  prompts: number[][];
  newTokens: number;
}

/** BENCH.md's rollout: 128 sequences, each its own random image and 31-token prompt. */
function benchRolloutWork(): RolloutWork {
  const c = BENCH_CONFIG;
  const r = new Rng(2);
  const B = 128;
  return {
    name: 'rollout',
    config: c,
    images: Array.from({ length: B }, () => randomImage(c.image.size, r)),
    imageOf: Int32Array.from({ length: B }, (_, i) => i),
    prompts: Array.from({ length: B }, () => [
      BOS,
      ...Array.from({ length: c.maxPromptTokens - 1 }, () => 32 + r.below(90)),
    ]),
    newTokens: 64,
  };
}

/**
 * The demo's rollouts (configs/demo.yaml): the shipped base's model config, 8 prompts of its
 * tasks (nonobj, count) with G = 8 rollouts each — few sequences and small products, where
 * per-call overhead weighs most — 64 new tokens each.
 */
function demoRolloutWork(): RolloutWork {
  const c = SMALL_CONV_CONFIG;
  const prompts = 8;
  const G = 8;
  const samples = generateMixed(['nonobj', 'count'], prompts, 0, {
    width: c.image.size,
    height: c.image.size,
  });
  return {
    name: 'rollout_demo',
    config: c,
    images: samples.map((s) => s.image),
    imageOf: Int32Array.from({ length: prompts * G }, (_, i) => Math.floor(i / G)),
    prompts: Array.from({ length: prompts * G }, (_, i) =>
      promptTokens(samples[Math.floor(i / G)]!, 'compact', c),
    ),
    newTokens: 64,
  };
}

export function benchRollout(
  dtype: MatmulDtype,
  profile = false,
  which: RolloutWork['name'] = 'rollout',
): ModelBenchResult {
  const work = which === 'rollout' ? benchRolloutWork() : demoRolloutWork();
  if (profile) {
    return profiled(dtype, (startTimed) => {
      const result = rollout(work, dtype, startTimed);
      return {
        result,
        wall: result.run_seconds!.reduce((a, b) => a + b, 0),
        per: result.run_seconds!.length,
      };
    });
  }
  return rollout(work, dtype);
}

function rollout(
  work: RolloutWork,
  dtype: MatmulDtype,
  afterWarmup?: () => void,
): ModelBenchResult {
  return withMatmulDtype(dtype, () => {
    const model = VisionLanguageModel.create(work.config, 0);
    const images = model.patchify(work.images);
    const B = work.prompts.length;
    const run = () =>
      generate(
        model,
        { images, imageOf: work.imageOf, prompts: work.prompts },
        {
          maxNewTokens: work.newTokens,
          temperature: 1,
          rng: new Rng(3),
          stopTokens: [],
        },
      );
    run(); // warm-up
    afterWarmup?.();
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      run();
      times.push((performance.now() - t0) / 1000);
    }
    const s = median(times);
    return {
      name: work.name,
      dtype,
      new_tokens_per_s: Math.round((B * work.newTokens) / s),
      seconds: Math.round(s * 1000) / 1000,
      run_seconds: times.map((t) => Math.round(t * 1000) / 1000),
      peak_rss_mb: peakRssMb(),
    };
  });
}
