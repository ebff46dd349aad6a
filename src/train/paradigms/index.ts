/**
 * The registry: every training method by name, each a schedule over the paradigms in this
 * folder. Adding a paradigm is one file here plus one line below (docs/TRAINING.md).
 */
import { chord } from './chord.js';
import { luffy } from './luffy.js';
import { rlvr } from './rlvr.js';
import { single, twoStage, type Schedule } from './schedules.js';
import { sft } from './sft.js';
import { visurf } from './visurf.js';

export const METHOD_REGISTRY = {
  sft: single(sft),
  rlvr: single(rlvr),
  'sft-rlvr': twoStage(sft, rlvr),
  visurf: single(visurf),
  chord: single(chord),
  luffy: single(luffy),
} satisfies Record<string, Schedule>;

export type Method = keyof typeof METHOD_REGISTRY;
export const METHODS = Object.keys(METHOD_REGISTRY) as [Method, ...Method[]];

export function scheduleOf(method: Method): Schedule {
  return METHOD_REGISTRY[method];
}

export {
  rolloutStats,
  scoreText,
  sftTarget,
  responseTokens,
  type RewardSettings,
} from './common.js';
export type { RunProgress, Schedule } from './schedules.js';
export type * from './types.js';
