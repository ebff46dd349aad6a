/** visurf public API, by layer. */
export * from './engine/index.js';
export * from './model/index.js';
export * as tasks from './tasks/index.js';
export * as rewards from './rewards/index.js';
export * as metrics from './metrics/index.js';
export * as data from './data/index.js';
export * as algorithms from './algorithms/index.js';
