import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY_CONFIG, VisionLanguageModel, saveModel } from '../../src/model/index.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { buildEvalSuite, evalOptionsOf, runEvalSuite } from '../../src/train/eval-suite.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('visurf eval: the held-out evaluation of a checkpoint, as JSON or a table; bad tasks are named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-eval-'));
  try {
    const model = VisionLanguageModel.create(TINY_CONFIG, 3);
    await saveModel(dir, model, { dtype: 'f32' });
    const r = run(['eval', dir, '--tasks', 'colorqa,count', '--n', '5', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Array<{ task: string; n: number; reward: number }>;
    // the same numbers as the trainer's own evaluation of that model on those samples
    const cfg = parseTrainConfig({ data: { tasks: ['colorqa', 'count'] }, eval: { size: 5 } });
    const suite = await buildEvalSuite(cfg, TINY_CONFIG);
    const want = runEvalSuite(model, suite, evalOptionsOf(cfg, TINY_CONFIG), 0).tasks;
    assert.deepEqual(
      got.map((t) => [t.task, t.n, t.reward]),
      want.map((t) => [t.task, t.n, t.reward]),
    );
    const table = run(['eval', dir, '--tasks', 'colorqa', '--n', '2', '--examples', '1']);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^task\s+n\s+reward/);
    assert.match(table.stdout, /colorqa · color of \w+ → .*\(expected \w+\)/);
    const bad = run(['eval', dir, '--tasks', 'colourqa']);
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /--tasks: unknown task "colourqa" \(did you mean "colorqa"\?\); expected .* or all/,
    );
    // --tasks all on the 16 px model: the tasks it cannot draw are skipped, named, not fatal
    const all = run(['eval', dir, '--tasks', 'all', '--n', '1', '--json']);
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stderr, /gui skipped: gui at 16x16: task generator could not place/);
    assert.ok((JSON.parse(all.stdout) as unknown[]).length >= 9);
    const badN = run(['eval', dir, '--n', 'many']);
    assert.equal(badN.status, 1);
    assert.match(badN.stderr, /--n: expected an integer from 1 to 10000, got "many"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
