/** Verifiable rewards (DESIGN section 2). Every function here returns a score for any input and never throws. */
export * from './limits.js';
export * from './parse.js';
export * from './geometry.js';
export * from './hungarian.js';
export * from './scale.js';
export * from './format.js';
export * from './accuracy.js';
export * from './nonrepeat.js';
export * from './scalar.js';
export * from './dispatch.js';
