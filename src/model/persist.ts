/**
 * Saving and loading a model (with optional optimizer and trainer state) as a checkpoint
 * directory: model.safetensors + config.json + tokenizer.json (+ optimizer.safetensors +
 * trainer_state.json), written atomically by ./checkpoint.ts.
 */
import type { AdamW, AdamWState } from '../engine/index.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { CheckpointError } from './checkpoint-error.js';
import { parseModelConfig } from './config.js';
import { tokenizerDescription } from './tokenizer.js';
import { tokenizerOf } from './config.js';
import { VisionLanguageModel, type WeightRecord } from './vlm.js';

export interface SaveModelOptions {
  dtype?: 'f32' | 'bf16';
  optimizer?: AdamW;
  trainerState?: unknown;
}

export async function saveModel(
  dir: string,
  model: VisionLanguageModel,
  opts: SaveModelOptions = {},
): Promise<void> {
  let optimizer: { step: number; m: WeightRecord; v: WeightRecord } | undefined;
  if (opts.optimizer) {
    const s = opts.optimizer.state();
    const names = [...model.params.keys()];
    if (names.length !== s.m.length)
      throw new Error("saveModel: the optimizer does not hold this model's parameters");
    const rec = (arrs: Float32Array[]): WeightRecord =>
      Object.fromEntries(
        names.map((n, i) => [n, { shape: [...model.params.get(n)!.shape], data: arrs[i]! }]),
      );
    optimizer = { step: s.step, m: rec(s.m), v: rec(s.v) };
  }
  await saveCheckpoint(
    dir,
    {
      weights: model.weights(),
      config: model.config,
      tokenizer: tokenizerDescription(model.config.vocab, tokenizerOf(model.config)),
      ...(optimizer ? { optimizer } : {}),
      ...(opts.trainerState !== undefined ? { trainerState: opts.trainerState } : {}),
    },
    { dtype: opts.dtype ?? 'f32' },
  );
}

export interface LoadedModel {
  model: VisionLanguageModel;
  /** AdamW state in the model's parameter order, if saved */
  optimizer?: AdamWState;
  trainerState?: unknown;
}

export async function loadModel(dir: string): Promise<LoadedModel> {
  const ckpt = await loadCheckpoint(dir);
  const config = parseModelConfig(ckpt.config, `${dir}/config.json`);
  let model: VisionLanguageModel;
  // a bf16 checkpoint of a run keeps its exact f32 weights beside the optimizer's moments
  const weights = ckpt.optimizer?.master ?? ckpt.weights;
  try {
    model = VisionLanguageModel.fromWeights(config, weights, `${dir}/model.safetensors`);
  } catch (err) {
    throw new CheckpointError(`${dir}/model.safetensors`, (err as Error).message);
  }
  const out: LoadedModel = { model };
  if (ckpt.optimizer) {
    const names = [...model.params.keys()];
    out.optimizer = {
      step: ckpt.optimizer.step,
      m: names.map((n) => ckpt.optimizer!.m[n]!.data),
      v: names.map((n) => ckpt.optimizer!.v[n]!.data),
    };
  }
  if (ckpt.trainerState !== undefined) out.trainerState = ckpt.trainerState;
  return out;
}
