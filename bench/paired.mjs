#!/usr/bin/env node
/**
 * visurf against PyTorch on the same model and step, measured alternately in one run.
 *
 * The machines this runs on are shared and noisy, so absolute times from different minutes say
 * little; what can be compared is visurf and PyTorch measured back to back. Every round runs,
 * for each (figure, dtype) in {train_step, rollout} x {f32, bf16}:
 *   node dist/src/cli/main.js bench --json --only <fig> --dtype <dt> --threads <n>
 *   /usr/bin/python3 bench/torch_bench.py --json --only <fig> --dtype <dt> --threads <n>
 * visurf first in odd rounds and PyTorch first in even ones, so neither always gets the cooler
 * (or the busier) minute. It prints, per (figure, dtype), both figures of every round and their
 * ratio within the round (visurf / PyTorch), and writes every number to --out as JSON.
 *
 * Usage: node bench/paired.mjs [--rounds 2] [--threads 2] [--out bench/paired-results.json]
 *                              [--dry] [--small]
 *   --dry    print the commands it would run, run nothing
 *   --small  smoke test: PyTorch runs with --small; visurf (which has no small mode) is not
 *            run, its commands are printed instead
 * No dependencies beyond Node itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
const VISURF_MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const TORCH_BENCH = join(ROOT, 'bench', 'torch_bench.py');
const FIGURES = ['train_step', 'rollout'];
const DTYPES = ['f32', 'bf16'];
/** the JSON key holding each figure's number */
const KEY = { train_step: 'tokens_per_s', rollout: 'new_tokens_per_s' };
const UNIT = { train_step: 'tokens/s', rollout: 'new tokens/s' };

function usage(message) {
  if (message) process.stderr.write(`paired: ${message}\n`);
  process.stderr.write(
    'usage: node bench/paired.mjs [--rounds N] [--threads N] [--out FILE] [--dry] [--small]\n',
  );
  process.exit(message ? 2 : 0);
}

function parseArgs(argv) {
  const opts = {
    rounds: 2,
    threads: 2,
    out: join(ROOT, 'bench', 'paired-results.json'),
    dry: false,
    small: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const positive = (raw) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) usage(`${a} must be a positive integer, got "${raw}"`);
      return n;
    };
    if (a === '--rounds') opts.rounds = positive(value());
    else if (a === '--threads') opts.threads = positive(value());
    else if (a === '--out') opts.out = resolve(value());
    else if (a === '--dry') opts.dry = true;
    else if (a === '--small') opts.small = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument "${a}"`);
  }
  return opts;
}

/** The "Model name" line of lscpu (the CPU the figures belong to), or a note that it failed. */
function cpuModel() {
  const r = spawnSync('lscpu', [], { encoding: 'utf8' });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('Model name:'));
  return line ? line.replace(/^Model name:\s*/, '').trim() : 'unknown (lscpu gave no Model name)';
}

function torchVersion() {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Parameter counts of both models (they must be equal: the same architecture). */
function parameterCounts() {
  const torch = spawnSync(PYTHON, [TORCH_BENCH, '--params'], { encoding: 'utf8' });
  const visurf = existsSync(VISURF_MAIN)
    ? spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { VisionLanguageModel, BENCH_CONFIG } from ${JSON.stringify(
            join(ROOT, 'dist', 'src', 'model', 'index.js'),
          )};
           console.log(VisionLanguageModel.create(BENCH_CONFIG, 0).parameterCount());`,
        ],
        { encoding: 'utf8' },
      )
    : null;
  const t = torch.status === 0 ? JSON.parse(torch.stdout) : null;
  return {
    visurf: visurf?.status === 0 ? Number(visurf.stdout.trim()) : null,
    torch: t?.params ?? null,
    // the BLAS behind PyTorch's f32 matmuls (see torch_bench.py loaded_blas)
    blas: t?.blas ?? [],
    referenceBlas: t?.reference_blas ?? false,
  };
}

function commands(fig, dtype, opts) {
  const common = ['--json', '--only', fig, '--dtype', dtype, '--threads', String(opts.threads)];
  return {
    visurf: { file: process.execPath, args: [VISURF_MAIN, 'bench', ...common] },
    torch: { file: PYTHON, args: [TORCH_BENCH, ...common, ...(opts.small ? ['--small'] : [])] },
  };
}

function show(cmd) {
  const file = cmd.file === process.execPath ? 'node' : cmd.file;
  return [file, ...cmd.args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a))].join(' ');
}

/** Run one benchmark command; its JSON line for (fig, dtype), with the wall time around it. */
function runOne(cmd, fig, dtype) {
  const t0 = performance.now();
  const r = spawnSync(cmd.file, cmd.args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  const wall_s = Math.round(performance.now() - t0) / 1000;
  if (r.status !== 0) return { error: `exit ${r.status ?? r.signal}`, wall_s };
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l));
  const row = rows.find((x) => x.name === fig && x.dtype === dtype);
  if (!row) return { error: `no JSON line for ${fig} ${dtype}`, wall_s };
  return { ...row, wall_s };
}

// the project's one table renderer (numeric columns right-aligned); dist/ exists after `make build`
const { textTable: table } = await import(join(ROOT, 'dist', 'src', 'report', 'tables.js'));

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const date = new Date().toISOString();
  const cpu = cpuModel();

  if (opts.dry) {
    process.stdout.write(`CPU: ${cpu}\ndate: ${date}\n(dry run: nothing is run)\n`);
    for (let round = 1; round <= opts.rounds; round++) {
      const order = round % 2 === 1 ? ['visurf', 'torch'] : ['torch', 'visurf'];
      for (const fig of FIGURES)
        for (const dtype of DTYPES) {
          const cmds = commands(fig, dtype, opts);
          for (const who of order) process.stdout.write(`round ${round}: ${show(cmds[who])}\n`);
        }
    }
    return;
  }

  const torch = torchVersion();
  if (!torch) {
    process.stderr.write(
      `paired: ${PYTHON} cannot import torch. \`make bench-torch\` installs it ` +
        "(`apt-get install python3-torch`, Debian's PyTorch 1.13).\n",
    );
    process.exit(1);
  }
  if (!opts.small && !existsSync(VISURF_MAIN)) {
    process.stderr.write(
      `paired: ${relative(ROOT, VISURF_MAIN)} is missing; run \`make build\`.\n`,
    );
    process.exit(1);
  }
  const params = parameterCounts();
  process.stdout.write(
    `CPU: ${cpu}\ndate: ${date}\nnode ${process.version}, torch ${torch}, threads ${opts.threads}\n` +
      `parameters: visurf ${params.visurf ?? '?'}, PyTorch ${params.torch ?? '?'}` +
      `${params.visurf === params.torch ? ' (equal)' : '  ** NOT EQUAL **'}\n`,
  );
  process.stdout.write(`PyTorch f32 BLAS: ${params.blas.join(' ') || '?'}\n`);
  if (params.referenceBlas)
    process.stdout.write(
      "** warning: PyTorch's f32 matmuls run on netlib's reference BLAS (a few GFLOP/s); " +
        '`make bench-torch` installs libopenblas0 (python3-torch recommends it) **\n',
    );
  if (opts.small)
    process.stdout.write(
      'SMALL smoke run: PyTorch on a shrunken batch; visurf is not run (no small mode)\n',
    );

  const results = {
    date,
    cpu,
    node: process.version,
    torch,
    threads: opts.threads,
    small: opts.small,
    params: { visurf: params.visurf, torch: params.torch },
    torch_blas: params.blas,
    rounds: [],
  };
  const save = () => {
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  };
  let failed = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? ['visurf', 'torch'] : ['torch', 'visurf'];
    const entry = { round, order, started: new Date().toISOString(), runs: [] };
    results.rounds.push(entry);
    for (const fig of FIGURES)
      for (const dtype of DTYPES) {
        const cmds = commands(fig, dtype, opts);
        const run = { figure: fig, dtype };
        for (const who of order) {
          if (who === 'visurf' && opts.small) {
            process.stderr.write(`paired: round ${round}: would run ${show(cmds.visurf)}\n`);
            run.visurf = { skipped: 'small', command: show(cmds.visurf) };
            continue;
          }
          process.stderr.write(`paired: round ${round}: ${show(cmds[who])}\n`);
          run[who] = runOne(cmds[who], fig, dtype);
          if (run[who].error) {
            failed++;
            process.stderr.write(`paired:   failed: ${run[who].error}\n`);
          } else {
            process.stderr.write(
              `paired:   ${who} ${run[who][KEY[fig]]} ${UNIT[fig]}, peak RSS ${run[who].peak_rss_mb} MB\n`,
            );
          }
        }
        const v = run.visurf?.[KEY[fig]];
        const t = run.torch?.[KEY[fig]];
        run.ratio = typeof v === 'number' && typeof t === 'number' && t > 0 ? v / t : null;
        entry.runs.push(run);
        save(); // after every pair, so an interrupted run keeps what it measured
      }
  }

  const R = opts.rounds;
  const rounds = Array.from({ length: R }, (_, i) => i + 1);
  const cell = (x) => (typeof x === 'number' ? String(x) : '-');
  const rowsFor = (pick) =>
    FIGURES.flatMap((fig) =>
      DTYPES.map((dtype) => {
        const runs = results.rounds.map((e) =>
          e.runs.find((r) => r.figure === fig && r.dtype === dtype),
        );
        return [fig, dtype, ...pick(fig, runs)];
      }),
    );
  process.stdout.write(
    `\nfigure: train_step tokens/s, rollout new tokens/s; ratio = visurf / PyTorch in the same round\n`,
  );
  process.stdout.write(
    `${table(
      [
        'figure',
        'dtype',
        ...rounds.map((r) => `visurf r${r}`),
        ...rounds.map((r) => `PyTorch r${r}`),
        ...rounds.map((r) => `ratio r${r}`),
      ],
      rowsFor((fig, runs) => [
        ...runs.map((r) => cell(r?.visurf?.[KEY[fig]])),
        ...runs.map((r) => cell(r?.torch?.[KEY[fig]])),
        ...runs.map((r) => (r?.ratio == null ? '-' : r.ratio.toFixed(2))),
      ]),
    )}\n`,
  );
  process.stdout.write('\npeak RSS MB (each benchmark in its own process)\n');
  process.stdout.write(
    `${table(
      [
        'figure',
        'dtype',
        ...rounds.map((r) => `visurf r${r}`),
        ...rounds.map((r) => `PyTorch r${r}`),
      ],
      rowsFor((_fig, runs) => [
        ...runs.map((r) => cell(r?.visurf?.peak_rss_mb)),
        ...runs.map((r) => cell(r?.torch?.peak_rss_mb)),
      ]),
    )}\n`,
  );
  process.stdout.write(`\nall rounds: ${relative(process.cwd(), opts.out) || opts.out}\n`);
  if (failed > 0) {
    process.stderr.write(`paired: ${failed} run(s) failed\n`);
    process.exit(1);
  }
}

main();
