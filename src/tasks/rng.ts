/**
 * Seeded pseudo-random numbers (mulberry32). Every generator draws only from an Rng so a seed
 * reproduces a sample exactly; Math.random is never used.
 */
export { Rng } from '../engine/random.js';

/** Mix a seed with a string (e.g. the task name) so different tasks with one seed differ. */
export function mixSeed(seed: number, salt: string): number {
  let h = (Math.floor(Number.isFinite(seed) ? seed : 0) ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}
