/** The vision-language model: config, tokenizer, prompts, forward, generation, scoring. */
export * from './config.js';
export * from './tokenizer.js';
export * from './prompt.js';
export * from './vlm.js';
export * from './generate.js';
export * from './score.js';
export * from './persist.js';
export * from './checkpoint.js';
export * from './checkpoint-error.js';
export * from './safetensors.js';
export * from './atomic.js';
export * from './shipped.js';
export { isPidAlive } from './checkpoint-dirs.js';
