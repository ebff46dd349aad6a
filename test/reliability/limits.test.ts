/** Sizes that cannot fit, and configs that would train nothing, are refused with the key named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SMALL_CONFIG, parseModelConfig } from '../../src/model/index.js';
import { MAX_EVAL_SIZE, parseTrainConfig } from '../../src/train/config.js';
import { MAIN } from './helpers.js';

test('rlvr and sft-rlvr with groupSize 1 are refused (they would train nothing); visurf is not', () => {
  for (const method of ['rlvr', 'sft-rlvr'])
    assert.throws(
      () => parseTrainConfig({ method, sftSteps: 1, steps: 2, rollout: { groupSize: 1 } }, 'cfg'),
      /cfg: rollout\.groupSize: .* needs at least 2 rollouts per prompt \(got 1\)/,
    );
  assert.equal(
    parseTrainConfig({ method: 'visurf', rollout: { groupSize: 1 } }).rollout.groupSize,
    1,
  );
});

test('a model config asking for 1e9 response tokens is refused, naming the field', () => {
  assert.throws(
    () => parseModelConfig({ ...SMALL_CONFIG, maxResponseTokens: 1e9 }, 'ck/config.json'),
    /ck\/config\.json: invalid model config: maxResponseTokens: /,
  );
});

test('eval sizes are bounded: eval.size in a config and eval --n on the command line', () => {
  assert.throws(() => parseTrainConfig({ eval: { size: MAX_EVAL_SIZE + 1 } }, 'cfg'), /eval\.size/);
  const r = spawnSync(process.execPath, [MAIN, 'eval', 'base', '--n', '1e9'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(`--n: expected an integer from 1 to ${MAX_EVAL_SIZE}, got "1e9"`),
  );
});

test('a failed write or append names its file and keeps the error code', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { appendFileChecked, writeFileAtomicSync } = await import('../../src/model/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'visurf-write-'));
  try {
    writeFileSync(join(dir, 'plain-file'), '');
    const target = join(dir, 'plain-file', 'config.json'); // a file where a folder should be
    for (const write of [
      () => writeFileAtomicSync(target, '{}'),
      () => appendFileChecked(target, 'line\n'),
    ])
      assert.throws(write, (e: NodeJS.ErrnoException) => {
        assert.ok(e.message.startsWith(`${target}: cannot`), e.message);
        assert.equal(e.code, 'ENOTDIR');
        return true;
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
