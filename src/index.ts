/** visurf public API, by layer. */
export * from './engine/index.js';
export * from './model/index.js';
export * as tasks from './tasks/index.js';
export * as rewards from './rewards/index.js';
export * as metrics from './metrics/index.js';
export * as data from './data/index.js';
export * as algorithms from './algorithms/index.js';
export {
  train,
  type TrainHooks,
  type TrainResult,
  type StepLog,
  type EvalLog,
} from './train/trainer.js';
export {
  parseTrainConfig,
  readConfigFile,
  applyOverrides,
  type TrainConfig,
} from './train/config.js';
export {
  compare,
  parseCompareConfig,
  type CompareConfig,
  type CompareResults,
} from './experiment/compare.js';
export { evaluateTask, type TaskEval } from './eval/evaluate.js';
export { writeReport } from './report/index.js';
