/**
 * Scaling of the train step (`visurf bench --scaling`): step time and memory as the group size G,
 * the response length and the decoder width grow, one axis at a time from a base of 4 prompts x
 * (G = 8 rollouts + 1 label), 64 response tokens, width 256 (the bench model otherwise).
 * Each point runs in its own process (peak RSS is a per-process high-water mark).
 * Expected: time and memory linear in G (rows), a little worse than linear in response length
 * (attention is quadratic in the sequence, the rest linear), about quadratic in width
 * (matmul FLOPs ~ width²).
 */
import { BENCH_CONFIG, type ModelConfig } from '../model/index.js';
import type { MatmulDtype } from '../engine/index.js';
import { trainStep, type TrainStepShape } from './model-bench.js';

export type ScalingAxis = 'G' | 'response' | 'width';

export const SCALING_POINTS: Array<{ axis: ScalingAxis; value: number }> = [
  ...[2, 4, 8, 16].map((value) => ({ axis: 'G' as const, value })),
  ...[16, 32, 64, 128].map((value) => ({ axis: 'response' as const, value })),
  ...[128, 256, 384, 512].map((value) => ({ axis: 'width' as const, value })),
];

function shapeOf(axis: ScalingAxis, value: number): TrainStepShape {
  const base: ModelConfig = BENCH_CONFIG;
  if (axis === 'G') return { config: base, prompts: 4, group: value + 1 };
  if (axis === 'response')
    return { config: { ...base, maxResponseTokens: value }, prompts: 4, group: 9 };
  // width: head dim 32 as in the bench model, SwiGLU hidden 2.75 x width (704 at 256)
  const decoder = {
    ...base.decoder,
    width: value,
    heads: value / 32,
    hidden: Math.round((2.75 * value) / 32) * 32,
  };
  return { config: { ...base, decoder }, prompts: 4, group: 9 };
}

/** One scaling point: median step seconds of 2 steps after a warm-up, arena and peak memory. */
export function scalingPoint(
  axis: ScalingAxis,
  value: number,
  dtype: MatmulDtype,
): Record<string, unknown> {
  const shape = shapeOf(axis, value);
  const r = trainStep(dtype, 2, undefined, shape);
  const steps = r.step_seconds!;
  const step = (steps[0]! + steps[1]!) / 2;
  const c = shape.config;
  return {
    name: 'scaling',
    axis,
    value,
    dtype,
    sequences: shape.prompts * shape.group,
    seq_len: c.maxPromptTokens + c.maxResponseTokens + 64,
    step_s: Math.round(step * 1000) / 1000,
    tokens_per_s: r.tokens_per_s,
    arena_mb: r.arena_mb,
    peak_rss_mb: r.peak_rss_mb,
  };
}
