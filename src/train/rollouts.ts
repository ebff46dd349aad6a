/** Sampling a step's rollouts: G replies per prompt, decoded and scored by the task's reward. */
import type { Rng } from '../engine/index.js';
import {
  generate,
  type ImageBatch,
  type Tokenizer,
  type VisionLanguageModel,
} from '../model/index.js';
import type { TrainConfig } from './config.js';
import {
  scoreText,
  type PromptItem,
  type RewardSettings,
  type ScoredRollout,
} from './paradigms/index.js';

export interface SampledGroups {
  /** per prompt, its G scored rollouts */
  groups: ScoredRollout[][];
  /** new tokens generated */
  generated: number;
}

export function sampleGroups(
  model: VisionLanguageModel,
  images: ImageBatch,
  items: readonly PromptItem[],
  cfg: TrainConfig,
  o: { rng: Rng; maxNewTokens: number; tokenizer: Tokenizer; reward: RewardSettings },
): SampledGroups {
  const G = cfg.rollout.groupSize;
  const gen = generate(
    model,
    {
      images,
      imageOf: Int32Array.from({ length: items.length * G }, (_, j) => Math.floor(j / G)),
      prompts: items.flatMap((it) => Array.from({ length: G }, () => it.prompt)),
    },
    {
      maxNewTokens: o.maxNewTokens,
      temperature: cfg.rollout.temperature,
      topP: cfg.rollout.topP,
      topK: cfg.rollout.topK,
      rng: o.rng,
    },
  );
  let generated = 0;
  const groups = items.map((it, k) =>
    Array.from({ length: G }, (_, j) => {
      const tokens = gen.tokens[k * G + j]!;
      generated += tokens.length;
      const text = o.tokenizer.decode(tokens);
      return { tokens, text, reward: scoreText(it.sample, text, o.reward) };
    }),
  );
  return { groups, generated };
}
