/** Dataset I/O in the Seg-Zero / VisionReasoner layout (Parquet, JSONL), image codecs and contact sheets. */
export * from './codec.js';
export * from './contact.js';
export * from './layout.js';
export * from './columns.js';
export * from './rle.js';
export * from './parquet.js';
export * from './jsonl.js';
export * from './convert.js';
export * from './dataset.js';
export * from './resize.js';
