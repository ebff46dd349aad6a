/** Timing helpers for benchmarks: warm-up, repeated runs, medians, peak memory. */

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Seconds per call of fn: one warm-up call, then `samples` timed samples, each repeating fn
 * enough times to last at least minSampleSeconds; returns the median sample.
 */
export function secondsPerCall(fn: () => void, samples = 5, minSampleSeconds = 0.2): number {
  fn();
  const t0 = performance.now();
  fn();
  const once = Math.max(1e-6, (performance.now() - t0) / 1000);
  const reps = Math.max(1, Math.ceil(minSampleSeconds / once));
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) fn();
    times.push((performance.now() - t) / 1000 / reps);
  }
  return median(times);
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}
