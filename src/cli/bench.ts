/**
 * `visurf bench`: the fixed BENCH.md measurements, as a table or JSON lines.
 * Each (benchmark, dtype) runs in a fresh child process so that its peak resident memory is its
 * own, not the high-water mark of whatever ran before it.
 */
import { table } from './tables.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { getAddon, kernels } from '../engine/index.js';
import type { MatmulDtype } from '../engine/index.js';
import { benchMatmul } from '../bench/matmul.js';
import { benchConvStem } from '../bench/conv.js';
import { benchRollout, benchTrainStep } from '../bench/model-bench.js';
import { benchPretrainStep } from '../bench/pretrain-bench.js';
import type { ProfileSummary } from '../engine/index.js';
import { SCALING_POINTS, scalingPoint, type ScalingAxis } from '../bench/scaling.js';

const ALL = [
  'matmul',
  'conv_stem',
  'train_step',
  'rollout',
  'rollout_demo',
  'pretrain_step',
] as const;
type BenchName = (typeof ALL)[number];
const DTYPES: MatmulDtype[] = ['f32', 'bf16'];

interface BenchOptions {
  json?: boolean;
  only?: string;
  dtype?: string;
  threads: string;
  profile?: boolean;
  scaling?: boolean;
  scalingPoint?: string;
  child?: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'measure speed on the BENCH.md configuration: matmul GFLOP/s, conv stem GFLOP/s (forward + backward), train-step tokens/s, rollout new tokens/s (the BENCH.md batch, and the demo batch: the base config, 8 prompts x 8 rollouts), and the pre-training step of configs/pretrain-base.yaml (samples/s); peak memory',
    )
    .option('--json', 'print one JSON object per line instead of a table')
    .option('--only <names>', `comma-separated subset of: ${ALL.join(', ')}`)
    .option('--dtype <dtypes>', 'comma-separated subset of: f32, bf16', 'f32,bf16')
    .option('--threads <n>', 'compute threads', '2')
    .option(
      '--profile',
      'time per op kind (matmul, conv, attention, norm, elementwise, optimizer, sampling, framework) and model FLOPs utilisation for train_step, pretrain_step and the rollouts',
    )
    .option(
      '--scaling',
      'train-step time and memory as G, response length and decoder width grow (f32 unless --dtype)',
    )
    // Internal: run in this process and print JSON lines (the parent spawns one per benchmark).
    .addOption(new Option('--child').hideHelp())
    .addOption(new Option('--scaling-point <axis=value>').hideHelp())
    .action((opts: BenchOptions) => runBench(opts));
}

function parseList<T extends string>(raw: string, allowed: readonly T[], what: string): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) {
    if (!(allowed as readonly string[]).includes(i))
      throw new Error(`bench: unknown ${what} "${i}" (choose from ${allowed.join(', ')})`);
  }
  return items as T[];
}

async function runOne(
  name: BenchName,
  dtype: MatmulDtype,
  profile: boolean,
): Promise<Array<Record<string, unknown>>> {
  if (name === 'pretrain_step') return [{ ...(await benchPretrainStep(dtype, 10, [], profile)) }];
  if (name === 'matmul') return [256, 512, 1024].map((n) => ({ ...benchMatmul(n, dtype) }));
  if (name === 'conv_stem') return [{ ...benchConvStem(dtype) }];
  if (name === 'train_step') return [{ ...benchTrainStep(dtype, 3, undefined, profile) }];
  return [{ ...benchRollout(dtype, profile, name) }];
}

function runScaling(dtypes: MatmulDtype[], threads: number, json: boolean): void {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const rows: Array<Record<string, unknown>> = [];
  for (const p of SCALING_POINTS) {
    for (const dtype of dtypes) {
      if (!json) process.stderr.write(`bench: scaling ${p.axis}=${p.value} ${dtype} ...\n`);
      const child = spawnSync(
        process.execPath,
        [
          main,
          'bench',
          '--scaling-point',
          `${p.axis}=${p.value}`,
          '--dtype',
          dtype,
          '--threads',
          String(threads),
        ],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          env: process.env,
        },
      );
      if (child.status !== 0)
        throw new Error(
          `bench: scaling ${p.axis}=${p.value} failed (exit ${child.status ?? child.signal})`,
        );
      for (const line of child.stdout.split('\n').filter(Boolean)) {
        rows.push(JSON.parse(line) as Record<string, unknown>);
        if (json) process.stdout.write(`${line}\n`);
      }
    }
  }
  if (!json) {
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter(
      (k) => k !== 'name' && k !== 'threads',
    );
    process.stdout.write(
      `${table(
        keys,
        rows.map((r) => keys.map((k) => String(r[k] ?? ''))),
      )}\n`,
    );
  }
}

/** The profile of one benchmark as a table: seconds per step (or per rollout batch) by op kind. */
function printProfile(row: Record<string, unknown>): void {
  const p = row.profile as ProfileSummary | undefined;
  if (!p) return;
  const per = row.name === 'train_step' || row.name === 'pretrain_step' ? 'step' : 'rollout batch';
  process.stdout.write(
    `\nprofile ${String(row.name)} ${String(row.dtype)}: ${p.wall_s} s per ${per}; ` +
      `${p.achieved_gflops} GFLOP/s achieved (matmul + attention products) of a ${p.ceiling_gflops} GFLOP/s ` +
      `measured 1024³ matmul ceiling = ${(p.mfu * 100).toFixed(1)}% utilisation\n`,
  );
  process.stdout.write(
    `${table(
      ['kind', 'seconds', 'share', 'calls', 'GFLOP/s'],
      p.rows.map((r) => [
        r.kind,
        r.seconds,
        `${(r.share * 100).toFixed(1)}%`,
        r.calls,
        r.gflops ?? '-',
      ]),
    )}\n`,
  );
}

async function runBench(opts: BenchOptions): Promise<void> {
  const names = parseList(opts.only ?? ALL.join(','), ALL, 'benchmark');
  const dtypes = parseList(opts.dtype ?? 'f32,bf16', DTYPES, 'dtype');
  const threads = Number(opts.threads);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`bench: --threads must be a positive integer, got "${opts.threads}"`);
  const k = kernels();
  getAddon()?.setThreads(threads);
  if (opts.scalingPoint) {
    const [axis, value] = opts.scalingPoint.split('=') as [ScalingAxis, string];
    for (const dtype of dtypes)
      process.stdout.write(
        `${JSON.stringify({ ...scalingPoint(axis, Number(value), dtype), threads })}\n`,
      );
    return;
  }
  if (opts.scaling) {
    runScaling(
      opts.dtype === undefined || opts.dtype === 'f32,bf16' ? ['f32'] : dtypes,
      threads,
      opts.json ?? false,
    );
    return;
  }
  if (opts.child) {
    for (const name of names)
      for (const dtype of dtypes) {
        for (const row of await runOne(name, dtype, opts.profile ?? false))
          process.stdout.write(`${JSON.stringify({ ...row, threads, kernels: k.name })}\n`);
      }
    return;
  }
  const rows: Array<Record<string, unknown>> = [];
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  for (const name of names) {
    for (const dtype of dtypes) {
      if (!opts.json) process.stderr.write(`bench: ${name} ${dtype} ...\n`);
      const args = [
        main,
        'bench',
        '--child',
        '--only',
        name,
        '--dtype',
        dtype,
        '--threads',
        String(threads),
      ];
      if (opts.profile && name !== 'matmul' && name !== 'conv_stem') args.push('--profile');
      const child = spawnSync(process.execPath, args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env: process.env,
      });
      if (child.status !== 0)
        throw new Error(`bench: ${name} ${dtype} failed (exit ${child.status ?? child.signal})`);
      for (const line of child.stdout.split('\n').filter(Boolean)) {
        const row = JSON.parse(line) as Record<string, unknown>;
        rows.push(row);
        if (opts.json) process.stdout.write(`${line}\n`);
      }
    }
  }
  if (!opts.json) {
    process.stdout.write(`kernels: ${k.name}, threads: ${threads}\n`);
    process.stdout.write(
      `${table(
        ['benchmark', 'dtype', 'size', 'figure', 'unit', 'peak RSS MB'],
        rows.map((r) => [
          String(r.name),
          String(r.dtype),
          String(r.size ?? '-'),
          String(r.gflops ?? r.samples_per_s ?? r.tokens_per_s ?? r.new_tokens_per_s),
          r.gflops !== undefined
            ? 'GFLOP/s'
            : r.samples_per_s !== undefined
              ? 'samples/s'
              : r.tokens_per_s !== undefined
                ? 'tokens/s'
                : 'new tokens/s',
          String(r.peak_rss_mb),
        ]),
      )}\n`,
    );
    for (const r of rows) printProfile(r);
  }
}
