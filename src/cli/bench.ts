/** `visurf bench`: the fixed BENCH.md measurements, as a table or JSON lines. */
import type { Command } from 'commander';
import { getAddon, kernels } from '../engine/kernels/index.js';
import { benchMatmul } from '../bench/matmul.js';

const ALL = ['matmul'] as const;

interface BenchOptions {
  json?: boolean;
  only?: string;
  threads: string;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure speed on the BENCH.md configuration (matmul GFLOP/s; train step and rollout arrive with the model)')
    .option('--json', 'print one JSON object per line instead of a table')
    .option('--only <names>', `comma-separated subset of: ${ALL.join(', ')}`)
    .option('--threads <n>', 'compute threads', '2')
    .action((opts: BenchOptions) => runBench(opts));
}

function runBench(opts: BenchOptions): void {
  const only = opts.only ? opts.only.split(',').map((s) => s.trim()) : [...ALL];
  for (const name of only) {
    if (!(ALL as readonly string[]).includes(name)) throw new Error(`bench: unknown benchmark "${name}" (choose from ${ALL.join(', ')})`);
  }
  const threads = Number(opts.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`bench: --threads must be a positive integer, got "${opts.threads}"`);
  kernels();
  getAddon()?.setThreads(threads);
  const rows: Array<Record<string, unknown>> = [];
  const emit = (r: Record<string, unknown>) => {
    rows.push(r);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...r, threads, kernels: kernels().name })}\n`);
  };
  if (only.includes('matmul')) {
    for (const dtype of ['f32', 'bf16'] as const) for (const size of [256, 512, 1024]) emit({ ...benchMatmul(size, dtype) });
  }
  if (!opts.json) {
    process.stdout.write(`kernels: ${kernels().name}, threads: ${threads}\n`);
    console.table(rows);
  }
}
