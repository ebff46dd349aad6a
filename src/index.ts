/** visurf public API. */
export * from "./engine/index.js";
export * from './model/index.js';
