/**
 * The pre-training step's speed (`visurf bench --only pretrain_step`): a few SFT steps of the
 * shipped base's recipe (configs/pretrain-base.yaml without its vision stage: 32 samples of the
 * full task mix per step, micro-batches of 8, the encoder frozen) on the `small-conv` model,
 * in a temporary run directory. It bounds how good a base fits in the 40-minute budget
 * (docs/BASE.md), so it is measured next to the BENCH.md figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  kernels,
  profileKernels,
  setKernels,
  stopProfiling,
  summarizeProfile,
  type MatmulDtype,
  type ProfileSummary,
} from '../engine/index.js';
import { packagePath } from '../engine/package.js';
import { applyOverrides, parseTrainConfig, readConfigFile } from '../train/config.js';
import { train } from '../train/trainer.js';
import { benchMatmul } from './matmul.js';
import { median, peakRssMb } from './measure.js';

export interface PretrainBenchResult {
  name: 'pretrain_step';
  dtype: MatmulDtype;
  samples_per_s: number;
  tokens_per_s: number;
  step_seconds: number[];
  peak_rss_mb: number;
  /** with profiling: time per op kind, per step */
  profile?: ProfileSummary;
}

/** Steps run before timing starts: the buffer arena and the JIT settle over the first few. */
const WARMUP_STEPS = 3;

export async function benchPretrainStep(
  dtype: MatmulDtype,
  steps = 10,
  /** more --set overrides (tests shrink the work with them) */
  extra: readonly string[] = [],
  /** time every kernel call of the timed steps (`visurf bench --profile`) */
  profile = false,
): Promise<PretrainBenchResult> {
  const file = packagePath('configs', 'pretrain-base.yaml');
  const { visionStage: _stage, ...raw } = readConfigFile(file) as Record<string, unknown>;
  const dir = mkdtempSync(join(tmpdir(), 'visurf-bench-pretrain-'));
  try {
    const cfg = parseTrainConfig(
      applyOverrides(raw, [
        `runDir=${dir}`,
        'model.init=small-conv',
        `model.precision=${dtype}`,
        `steps=${steps + WARMUP_STEPS}`,
        'eval.every=0',
        'eval.size=1',
        'checkpoint.every=0',
        'checkpoint.minutes=0',
        'log.completionsEvery=0',
        ...extra,
      ]),
      file,
    );
    const seconds: number[] = [];
    const tokens: number[] = [];
    // The ceiling for utilisation is measured before the profiled kernels are installed.
    const ceiling = profile ? benchMatmul(1024, dtype).gflops : 0;
    const inner = kernels();
    const profiler = profile ? profileKernels(inner) : undefined;
    if (profiler) setKernels(profiler.kernels);
    let wall = 0;
    let summary: ProfileSummary | undefined;
    const unprofile = (): void => {
      if (!profiler) return;
      stopProfiling();
      setKernels(inner);
    };
    try {
      await train(cfg, {
        onStep: (l) => {
          // The profile covers the timed steps only: it restarts when the last warm-up ends and
          // stops after the last step (before the run's final evaluation and save).
          if (l.step === WARMUP_STEPS - 1) profiler?.profile.reset();
          if (l.step < WARMUP_STEPS) return;
          seconds.push(l.seconds);
          tokens.push(l.forwardTokens);
          wall += l.seconds;
          if (profiler && seconds.length === steps) {
            summary = summarizeProfile(profiler.profile, wall, ceiling, steps);
            unprofile();
          }
        },
      });
    } finally {
      unprofile();
    }
    const s = median(seconds);
    return {
      ...(summary ? { profile: summary } : {}),
      name: 'pretrain_step',
      dtype,
      samples_per_s: Math.round((cfg.promptsPerStep / s) * 10) / 10,
      tokens_per_s: Math.round(median(tokens) / s),
      step_seconds: seconds.map((t) => Math.round(t * 1000) / 1000),
      peak_rss_mb: peakRssMb(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
