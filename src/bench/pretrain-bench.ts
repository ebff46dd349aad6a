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
import type { MatmulDtype } from '../engine/index.js';
import { packagePath } from '../engine/package.js';
import { applyOverrides, parseTrainConfig, readConfigFile } from '../train/config.js';
import { train } from '../train/trainer.js';
import { median, peakRssMb } from './measure.js';

export interface PretrainBenchResult {
  name: 'pretrain_step';
  dtype: MatmulDtype;
  samples_per_s: number;
  tokens_per_s: number;
  step_seconds: number[];
  peak_rss_mb: number;
}

/** Steps run before timing starts: the buffer arena and the JIT settle over the first few. */
const WARMUP_STEPS = 3;

export async function benchPretrainStep(
  dtype: MatmulDtype,
  steps = 10,
  /** more --set overrides (tests shrink the work with them) */
  extra: readonly string[] = [],
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
    await train(cfg, {
      onStep: (l) => {
        if (l.step < WARMUP_STEPS) return;
        seconds.push(l.seconds);
        tokens.push(l.forwardTokens);
      },
    });
    const s = median(seconds);
    return {
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
