#!/usr/bin/env node
/**
 * The streaming measurement of docs/DATA.md: write a large training-layout Parquet file of big
 * noisy PNGs (noise does not compress: each 840×840 image is ≈ 2.1 MB, the ViSurf training set's
 * resolution), then time and measure the peak RSS of `visurf data check` and of a few training
 * steps on it, each in its own process (/usr/bin/time -f %M).
 *
 *   node bench/stream-data.mjs [--rows 1000] [--size 840] [--dir /tmp/visurf-stream] [--keep]
 *
 * Needs `make build` first. The file is deleted at the end unless --keep.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { DatasetWriter } = await import(join(ROOT, 'dist/src/data/index.js'));
const { generateSample } = await import(join(ROOT, 'dist/src/tasks/index.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const rows = Number(arg('rows', '1000'));
const size = Number(arg('size', '840'));
const dir = arg('dir', '/tmp/visurf-stream');
mkdirSync(dir, { recursive: true });
const file = join(dir, `refer-${size}px-${rows}.parquet`);

// A refer scene at full size with its background replaced by noise (the objects stay drawn, so
// every label is still right), written a chunk at a time: the writer never holds the file.
let seed = 12345;
const noise = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; // a 32-bit LCG: its top byte is noise
  return seed >>> 24;
};
const t0 = performance.now();
const w = await DatasetWriter.open(file);
const chunk = 16;
for (let i = 0; i < rows; i += chunk) {
  const samples = [];
  for (let k = i; k < Math.min(rows, i + chunk); k++) {
    const s = generateSample('refer', k, { width: size, height: size, allowEmpty: false });
    const covered = new Uint8Array(size * size);
    for (const o of s.objects) for (let p = 0; p < covered.length; p++) covered[p] |= o.mask[p];
    for (let p = 0; p < covered.length; p++)
      if (!covered[p]) for (let c = 0; c < 3; c++) s.image.data[3 * p + c] = noise();
    samples.push(s);
  }
  await w.add(samples);
}
await w.close();
const writeSeconds = (performance.now() - t0) / 1000;
const bytes = statSync(file).size;

function measured(args) {
  const t = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, join(ROOT, 'dist/src/cli/main.js'), ...args],
    {
      encoding: 'utf8',
      cwd: dir,
    },
  );
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed:\n${r.stderr.slice(-2000)}`);
  const lines = r.stderr.trim().split('\n');
  return {
    seconds: (performance.now() - t) / 1000,
    peakRssMb: Math.round(Number(lines[lines.length - 1]) / 1024),
    stdout: r.stdout.trim().split('\n').slice(-1)[0],
  };
}

const check = measured(['data', 'check', file]);
const train = measured([
  'train',
  '--method',
  'sft',
  '--run-dir',
  join(dir, 'run'),
  '--set',
  `data.path=${file}`,
  '--set',
  'steps=3',
  '--set',
  'promptsPerStep=8',
  '--set',
  'eval.size=2',
  '--set',
  'log.completionsEvery=0',
]);
const result = {
  date: new Date().toISOString(),
  file: {
    rows,
    size,
    bytes,
    gb: +(bytes / 1e9).toFixed(2),
    writeSeconds: +writeSeconds.toFixed(1),
  },
  dataCheck: check,
  train3Steps: train,
};
console.log(JSON.stringify(result, null, 2));
if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
