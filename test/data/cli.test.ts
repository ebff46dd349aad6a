import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage, readDataset } from '../../src/data/index.js';
import { generateSamples } from '../../src/tasks/index.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('visurf data generate writes Parquet + contact sheet; data check accepts it and rejects a bad file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-cli-'));
  try {
    const g = run([
      'data',
      'generate',
      '--task',
      'refer,count',
      '--n',
      '12',
      '--seed',
      '5',
      '--out',
      dir,
    ]);
    assert.equal(g.status, 0, g.stderr);
    const ds = await readDataset(join(dir, 'refer.parquet'));
    const expected = generateSamples('refer', 12, 5);
    assert.deepEqual(
      ds.samples.map((s) => s.id),
      expected.map((s) => s.id),
    );
    assert.deepEqual(ds.samples[3]!.image.data, expected[3]!.image.data);
    const sheet = await decodeImage(new Uint8Array(await readFile(join(dir, 'count-sheet.png'))));
    assert.ok(sheet.width > 64 && sheet.height > 64);
    const ok = run(['data', 'check', join(dir, 'refer.parquet')]);
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /ok, 12 rows, layout train/);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"image": "x.png", "problem": "p"}\n');
    const r = run(['data', 'check', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /bad\.jsonl: row 0: field "solution"/);
    assert.notEqual(run(['data', 'generate', '--task', 'nope', '--out', dir]).status, 0);
    const m = run([
      'data',
      'generate',
      '--task',
      'gui,chart',
      '--n',
      '4',
      '--out',
      dir,
      '--mixed',
      '--format',
      'jsonl',
    ]);
    assert.equal(m.status, 0, m.stderr);
    const mixed = await readDataset(join(dir, 'mixed.jsonl'));
    assert.deepEqual(
      mixed.samples.map((s) => s.task),
      ['gui', 'chart', 'gui', 'chart'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('data check runs the checks train runs: an unparseable solution and a prompt past the budget', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-check-'));
  try {
    assert.equal(
      run(['data', 'generate', '--task', 'count', '--n', '3', '--format', 'jsonl', '--out', dir])
        .status,
      0,
    );
    const path = join(dir, 'count.jsonl');
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    rows[1]!['solution'] = 'not a number';
    rows[2]!['problem'] = 'count '.repeat(30);
    await writeFile(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = run(['data', 'check', path]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /2 bad of 3 rows/, "the solution and the prompt over base's budget");
    assert.match(r.stdout, /row 1: field "solution"/);
    // the same file under train fails on the same first row
    const t = run([
      'train',
      '--method',
      'sft',
      '--set',
      `data.path=${path}`,
      '--set',
      'model.init=tiny',
      '--set',
      'steps=1',
      '--run-dir',
      join(dir, 'run'),
    ]);
    assert.equal(t.status, 1);
    assert.match(t.stderr, /row 1: field "solution"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
