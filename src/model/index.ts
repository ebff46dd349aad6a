/** The vision-language model: config, tokenizer, prompts, forward, generation, scoring. */
export * from './config.js';
export * from './tokenizer.js';
export * from './prompt.js';
export * from './vlm.js';
export * from './generate.js';
export * from './score.js';
