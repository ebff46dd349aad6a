/** Square matmul throughput (BENCH.md "matmul"): GFLOP/s of f32 and bf16 products. */
import { kernels } from '../engine/index.js';
import type { MatmulDtype } from '../engine/index.js';
import { peakRssMb, secondsPerCall } from './measure.js';

export interface MatmulResult {
  name: 'matmul';
  dtype: MatmulDtype;
  size: number;
  gflops: number;
  peak_rss_mb: number;
}

export function benchMatmul(size: number, dtype: MatmulDtype): MatmulResult {
  const n = size;
  const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const b = new Float32Array(n * n).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const c = new Float32Array(n * n);
  const K = kernels();
  const spec = {
    batch: 1,
    m: n,
    n,
    k: n,
    transA: false,
    transB: false,
    broadcastB: false,
    accumulate: false,
    dtype,
  };
  const s = secondsPerCall(() => K.matmul(a, b, c, spec));
  return {
    name: 'matmul',
    dtype,
    size: n,
    gflops: Math.round((2 * n ** 3) / s / 1e7) / 100,
    peak_rss_mb: peakRssMb(),
  };
}
