/** "Did you mean": close names are suggested, far ones are not; `visurf config show`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { closest } from '../../src/train/suggest.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('closest: case and a few edits, never a far guess', () => {
  const keys = ['groupSize', 'temperature', 'topP', 'topK', 'maxNewTokens'];
  assert.equal(closest('groupsize', keys), 'groupSize');
  assert.equal(closest('temprature', keys), 'temperature');
  assert.equal(closest('maxNewToken', keys), 'maxNewTokens');
  assert.equal(closest('banana', keys), undefined);
  assert.equal(closest('colourqa', ['colorqa', 'shapeqa']), 'colorqa');
  // a swap of neighbours is one edit (two for plain edit distance, over imgae's limit of 1)
  assert.equal(closest('imgae', ['image', 'mask']), 'image');
  assert.equal(closest('tpoK', keys), 'topK');
});

test('visurf config show prints the effective config with every default', () => {
  const r = spawnSync(
    process.execPath,
    [MAIN, 'config', 'show', '--method', 'rlvr', '--set', 'rollout.groupSize=4'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const cfg = parse(r.stdout) as Record<string, Record<string, unknown>>;
  assert.equal(cfg['method'] as unknown, 'rlvr');
  assert.equal(cfg['rollout']!['groupSize'], 4);
  assert.equal(cfg['rollout']!['temperature'], 1, 'a default');
  assert.equal(cfg['checkpoint']!['minutes'], 10, 'a default');
  const bad = spawnSync(process.execPath, [MAIN, 'config', 'show', '--set', 'stepz=3'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1);
  // phrased in the flag the user typed
  assert.match(bad.stderr, /--set stepz=3: unknown key "stepz" \(did you mean "steps"\?\)/);
});
