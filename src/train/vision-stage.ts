/**
 * The vision stage of pre-training: the encoder learns to see before the language model learns
 * to talk about what it sees (the role a pretrained vision tower plays in a real VLM).
 *
 * Each step renders a batch of dense scenes (tasks/dense.ts) and trains the vision encoder with
 * a temporary head on every token cell: colour, shape and the covering object's box
 * (algorithms/dense-loss.ts). A question-answer sample supervises one or two answer tokens; a
 * dense scene supervises all 64 cells, so the encoder gets tens of times more perceptual signal
 * per image. Only the encoder's parameters (`vision.*`) change; the head is discarded.
 *
 * The stage is deterministic for a seed and short (minutes), so an interrupted stage simply
 * runs again from its start; its result is saved as a checkpoint that the SFT stage starts from.
 */
import { z } from 'zod';
import {
  AdamW,
  BufferArena,
  Rng,
  Tensor,
  backward,
  linear,
  noGrad,
  rmsnorm,
  warmupCosineLr,
  withArena,
} from '../engine/index.js';
import { denseLoss, type DenseTargets } from '../algorithms/index.js';
import { imageTokens, type VisionLanguageModel } from '../model/index.js';
import {
  DENSE_COLOURS,
  DENSE_COORD_HEADS,
  DENSE_DIGIT_HEADS,
  DENSE_SHAPES,
  generateDenseScene,
  type DenseScene,
} from '../tasks/index.js';

export const VisionStageSchema = z
  .object({
    /** optimizer steps of the stage (0 = no vision stage) */
    steps: z.number().int().min(0).default(0),
    /** dense scenes per step */
    batchSize: z.number().int().positive().default(64),
    lr: z.number().positive().default(2e-3),
    warmupSteps: z.number().int().min(0).default(50),
    minLrRatio: z.number().min(0).max(1).default(0.1),
    weightDecay: z.number().min(0).default(0.01),
    /** weight of the box L1 term against the two cross-entropies */
    boxWeight: z.number().min(0).default(4),
    /**
     * also classify the digits of the covering object's box and point on every cell
     * (tasks/dense.ts DENSE_DIGIT_HEADS), so the features hold the tokens an answer spells
     */
    digitTargets: z.boolean().default(false),
    /**
     * instead of digits, classify the covering object's box and point coordinates themselves,
     * one class per pixel position (tasks/dense.ts DENSE_COORD_HEADS): the tokens an answer
     * writes when the model has coordinate tokens
     */
    coordTargets: z.boolean().default(false),
    /** weight of the digit (or coordinate) classification against the other terms */
    digitWeight: z.number().min(0).default(1),
    /** held-out scenes measured every `evalEvery` steps and at the end */
    evalSize: z.number().int().positive().default(128),
    evalEvery: z.number().int().min(0).default(0),
  })
  .strict();
export type VisionStageConfig = z.infer<typeof VisionStageSchema>;

export interface VisionStageLog {
  step: number;
  lr: number;
  loss: number;
  colourAccuracy: number;
  shapeAccuracy: number;
  /** mean box error on object cells, in pixels */
  boxL1Px: number;
  seconds: number;
}

export interface VisionStageEval {
  step: number;
  colourAccuracy: number;
  shapeAccuracy: number;
  boxL1Px: number;
  /** with digitTargets (coordTargets): fraction of the box/point digits (coordinates) read right on object cells */
  digitAccuracy: number;
}

function targetsOf(scenes: readonly DenseScene[], coords: boolean): DenseTargets {
  const cat = <T extends Int32Array | Float32Array | Uint8Array>(
    make: (n: number) => T,
    pick: (s: DenseScene) => T,
  ): T => {
    const parts = scenes.map(pick);
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return {
    colour: cat(
      (n) => new Int32Array(n),
      (s) => s.colour,
    ),
    shape: cat(
      (n) => new Int32Array(n),
      (s) => s.shape,
    ),
    box: cat(
      (n) => new Float32Array(n),
      (s) => s.box,
    ),
    hasObject: cat(
      (n) => new Uint8Array(n),
      (s) => s.hasObject,
    ),
    digits: cat(
      (n) => new Int32Array(n),
      (s) => (coords ? s.coords : s.digits),
    ),
  };
}

/** Train the model's vision encoder in place; returns the per-step logs and evaluations. */
export function trainVisionStage(
  model: VisionLanguageModel,
  cfg: VisionStageConfig,
  seed: number,
  hooks: {
    onStep?: (log: VisionStageLog) => void;
    onEval?: (e: VisionStageEval) => void;
  } = {},
): { logs: VisionStageLog[]; evals: VisionStageEval[] } {
  const c = model.config;
  const size = c.image.size;
  const grid = size / c.image.patch;
  if (imageTokens(c) !== grid * grid)
    throw new Error('vision stage: a square token grid is expected');
  const rng = new Rng(seed);
  const headRng = new Rng(seed + 1);
  const width = c.vision.width;
  if (cfg.digitTargets && cfg.coordTargets)
    throw new Error('vision stage: digitTargets and coordTargets exclude each other (choose one)');
  const classes = {
    colours: DENSE_COLOURS,
    shapes: DENSE_SHAPES,
    digitHeads: cfg.coordTargets ? DENSE_COORD_HEADS : cfg.digitTargets ? DENSE_DIGIT_HEADS : 0,
    digitClasses: cfg.coordTargets ? size : 10,
  };
  const OUTPUTS = DENSE_COLOURS + DENSE_SHAPES + 4 + classes.digitClasses * classes.digitHeads;
  const head = {
    norm: Tensor.param(new Float32Array(width).fill(1), [width]),
    linear: Tensor.param(
      Float32Array.from({ length: OUTPUTS * width }, () => headRng.normal() / Math.sqrt(width)),
      [OUTPUTS, width],
    ),
  };
  const encoder = [...model.params.entries()]
    .filter(([name]) => name.startsWith('vision.'))
    .map(([, t]) => t);
  const opt = new AdamW([...encoder, head.norm, head.linear], {
    lr: cfg.lr,
    weightDecay: cfg.weightDecay,
    maxGradNorm: 1,
  });
  const forward = (scenes: readonly DenseScene[]) => {
    const feats = model.visionFeatures(model.patchify(scenes.map((s) => s.image)));
    return linear(rmsnorm(feats, head.norm, c.normEps), head.linear);
  };
  const evalRng = new Rng(seed ^ 0x5eed);
  const held = Array.from({ length: cfg.evalSize }, () => generateDenseScene(evalRng, size, grid));
  const evaluate = (step: number): VisionStageEval => {
    const r = withArena(arena, () =>
      noGrad(() =>
        denseLoss(
          forward(held).data,
          targetsOf(held, cfg.coordTargets),
          classes,
          cfg.boxWeight,
          cfg.digitWeight,
        ),
      ),
    );
    return {
      step,
      colourAccuracy: r.colourAccuracy,
      shapeAccuracy: r.shapeAccuracy,
      boxL1Px: r.boxL1 * size,
      digitAccuracy: r.digitAccuracy,
    };
  };
  const arena = new BufferArena();
  const logs: VisionStageLog[] = [];
  const evals: VisionStageEval[] = [];
  for (let step = 0; step < cfg.steps; step++) {
    const t0 = performance.now();
    const lr = warmupCosineLr(step, {
      baseLr: cfg.lr,
      warmupSteps: cfg.warmupSteps,
      totalSteps: cfg.steps,
      minLrRatio: cfg.minLrRatio,
    });
    const scenes = Array.from({ length: cfg.batchSize }, () => generateDenseScene(rng, size, grid));
    opt.zeroGrad();
    // Activations come from the arena: fresh memory costs a page fault per 4 KiB here.
    const r = withArena(arena, () => {
      const out = forward(scenes);
      const res = denseLoss(
        out.data,
        targetsOf(scenes, cfg.coordTargets),
        classes,
        cfg.boxWeight,
        cfg.digitWeight,
      );
      backward(out, res.grad);
      return res;
    });
    opt.step(lr);
    const log: VisionStageLog = {
      step: step + 1,
      lr,
      loss: r.loss,
      colourAccuracy: r.colourAccuracy,
      shapeAccuracy: r.shapeAccuracy,
      boxL1Px: r.boxL1 * size,
      seconds: (performance.now() - t0) / 1000,
    };
    logs.push(log);
    hooks.onStep?.(log);
    const last = step + 1 === cfg.steps;
    if (last || (cfg.evalEvery > 0 && (step + 1) % cfg.evalEvery === 0)) {
      const e = evaluate(step + 1);
      evals.push(e);
      hooks.onEval?.(e);
    }
  }
  return { logs, evals };
}
