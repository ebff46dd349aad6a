/** A model by any of its names: a run directory means its latest checkpoint; unknown names list what exists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveCheckpointDir, checkpointDirForStep } from '../../src/model/index.js';
import { train } from '../../src/train/trainer.js';
import { tinyConfig, withTemp } from '../reliability/helpers.js';

test('run directories resolve to their latest checkpoint; unknown names list the shipped models', async () => {
  await withTemp(async (dir) => {
    await train(tinyConfig(dir, 2));
    assert.equal(await resolveCheckpointDir(dir), checkpointDirForStep(dir, 2));
    assert.equal(
      await resolveCheckpointDir(checkpointDirForStep(dir, 1)),
      checkpointDirForStep(dir, 1),
    );
    await assert.rejects(
      resolveCheckpointDir(join(dir, 'nope')),
      /not found: .*shipped model \(.*base.*\)/,
    );
    assert.match(await resolveCheckpointDir('base'), /assets\/base$/);
    // a dataset where the model goes says how to evaluate on it
    const file = join(dir, 'my.parquet');
    writeFileSync(file, '');
    await assert.rejects(
      resolveCheckpointDir(file),
      /my\.parquet: a file, not a model: .*visurf eval MODEL --data .*my\.parquet/,
    );
  });
});
