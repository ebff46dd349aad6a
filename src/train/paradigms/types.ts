/**
 * What a paradigm is to the training loop: given a step's prompts (and, if it samples them, the
 * prompts' scored rollouts), the training members with their advantages and the step's reward
 * diagnostics. The loop composes paradigms without knowing any by name; each is one file in
 * this folder, registered by name in ./index.ts.
 */
import type { Tokenizer } from '../../model/index.js';
import type { RewardBreakdown } from '../../rewards/index.js';
import type { Sample } from '../../tasks/index.js';
import type { TrainConfig } from '../config.js';
import type { Member } from '../update.js';
import type { RewardSettings } from './common.js';

export interface PromptItem {
  sample: Sample;
  prompt: number[];
  /** index of the sample's image in the step's ImageBatch */
  image: number;
}

export interface ScoredRollout {
  tokens: number[];
  text: string;
  reward: RewardBreakdown;
}

export interface StepStats {
  rewardMean: number;
  rewardStd: number;
  /** mean of each reward component over rollouts */
  components: Record<string, number>;
  /** accuracy component as a fraction of its maximum, over rollouts */
  accuracyRate: number;
  /** fraction of groups whose rewards are all equal (no RL signal) */
  zeroVarianceFraction: number;
  labelRewardBefore: number;
  labelRewardAfter: number;
  labelAdvantageMean: number;
  smoothingFraction: number;
  alignedFraction: number;
  responseLength: number;
  /** fraction of rollouts that reached the token limit */
  truncatedFraction: number;
  /**
   * reward as a fraction of its maximum (total / maxTotal), averaged per task and then over the
   * step's tasks, so tasks whose maxima differ (7 and 4) weigh alike
   */
  rewardRate: number;
  /** fraction of rollouts in the expected form (closed think block, parseable answer) */
  formatRate: number;
  /** CHORD: the step's μ (the SFT term's weight) */
  mu?: number;
}

/** Everything a paradigm may read to build one step's members. */
export interface StepInput {
  /** the step (0-based), for paradigms with a schedule of their own */
  step: number;
  items: readonly PromptItem[];
  /** per prompt, its G scored rollouts (empty when the paradigm samples none) */
  groups: readonly (readonly ScoredRollout[])[];
  cfg: TrainConfig;
  tokenizer: Tokenizer;
  /** the rollouts' token limit (also the loss's length normaliser) */
  maxNewTokens: number;
  /** how replies (and labels) are scored: the run's reward settings */
  reward: RewardSettings;
}

export interface StepMembers {
  members: Member[];
  /** reward diagnostics (absent when nothing was sampled) */
  stats?: StepStats;
}

export interface Paradigm {
  /** the name logged as each step's `phase` */
  name: string;
  /** whether each step samples G rollouts per prompt before building its members */
  samplesRollouts: boolean;
  /** whether each step's members include one label per prompt (memory estimate, diagnostics) */
  injectsLabels: boolean;
  /** the update's loss: clipped policy surrogate with advantages, or token-mean NLL */
  loss: 'policy' | 'nll';
  members(input: StepInput): StepMembers;
}
