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
