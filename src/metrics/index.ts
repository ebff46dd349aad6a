/** Evaluation metrics (DESIGN section 2): gIoU, cIoU, BboxAcc, N-Acc, accuracy, ROC AUC, pass@k, and the segmenter. */
export * from './masks.js';
export * from './scores.js';
export * from './segment.js';
export * from './grounding.js';
export * from './presence.js';
export * from './stats.js';
