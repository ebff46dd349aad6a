/** visurf public API. */
export * from "./engine/index.js";
