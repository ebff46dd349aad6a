/** --json on the commands that print results: machine-readable, on stdout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinySets, withTemp } from '../reliability/helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) =>
  spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });

test('train --json and data check --json print JSON on stdout', async () => {
  await withTemp(async (dir) => {
    const t = run([
      'train',
      '--json',
      '--method',
      'sft',
      '--run-dir',
      join(dir, 'run'),
      ...tinySets(1, ['data.tasks=[count]']).flatMap((f) => ['--set', f]),
    ]);
    assert.equal(t.status, 0, t.stderr);
    const o = JSON.parse(t.stdout) as { steps: number; eval: { tasks: { task: string }[] } };
    assert.equal(o.steps, 1);
    assert.equal(o.eval.tasks[0]!.task, 'count');
    assert.equal(run(['data', 'generate', '--task', 'count', '--n', '2', '--out', dir]).status, 0);
    const c = run(['data', 'check', '--json', join(dir, 'count.parquet')]);
    assert.equal(c.status, 0, c.stderr);
    assert.deepEqual(JSON.parse(c.stdout), {
      file: join(dir, 'count.parquet'),
      layout: 'train',
      rows: 2,
      bad: 0,
      firstError: null,
    });
  });
});

test('pretrain --json and report --json print JSON on stdout; pretrain on the 16 px model skips what cannot be drawn, naming it', async () => {
  await withTemp(async (dir) => {
    const p = run([
      'pretrain',
      '--json',
      ...['model.init=tiny', 'steps=1', 'visionStage.steps=1', 'promptsPerStep=2', 'eval.size=1']
        .concat([`runDir=${join(dir, 'run')}`])
        .flatMap((f) => ['--set', f]),
      '--out',
      join(dir, 'base'),
      '--gap-samples',
      '1',
    ]);
    assert.equal(p.status, 0, p.stderr);
    const o = JSON.parse(p.stdout) as {
      out: string;
      steps: number;
      eval: { tasks: unknown[] };
      passAtK: Record<string, Record<string, number>>;
    };
    assert.equal(o.out, join(dir, 'base'));
    assert.equal(o.steps, 1);
    assert.ok(o.passAtK['refer']?.['8'] !== undefined);
    assert.match(p.stderr, /pass@k of gui skipped: gui at 16x16: task generator could not place/);
    const r = run(['report', '--json', join(dir, 'run')]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { report: join(dir, 'run', 'report.html') });
  });
});
