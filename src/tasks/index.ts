/** The visual task suite (DESIGN section 3): seeded renderer, task generators, registry. */
export * from './rng.js';
export * from './image.js';
export * from './palette.js';
export * from './shapes.js';
export * from './font.js';
export * from './background.js';
export * from './scene.js';
export * from './types.js';
export * from './registry.js';
export { GUI_LABELS } from './families/gui.js';
export type { SampleBody } from './families/common.js';
export * from './dense.js';
export * from './custom-reward.js';
