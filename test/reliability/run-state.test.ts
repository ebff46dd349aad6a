/**
 * What a run reads back is checked before anything is rewritten: a damaged sole checkpoint, a
 * hand-edited trainer state or a missing optimizer stop the run with the file and field named
 * and the logs untouched; a second trainer on the same directory is refused; raising `steps`
 * on a finished run continues it; leftovers of interrupted saves and prunes are removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { checkpointDirForStep, latestCheckpoint } from '../../src/model/index.js';
import { train } from '../../src/train/trainer.js';
import { deterministicLines, steps, tinyConfig, withTemp } from './helpers.js';

test('a damaged sole checkpoint stops the run with the damage named; logs untouched', async () => {
  await withTemp(async (dir) => {
    await train(tinyConfig(dir, 3, ['checkpoint.every=0', 'checkpoint.keep=1']));
    assert.deepEqual(readdirSync(join(dir, 'checkpoints')), ['step-000003']);
    const file = join(checkpointDirForStep(dir, 3), 'model.safetensors');
    writeFileSync(file, readFileSync(file).subarray(0, 1000));
    const before = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
    await assert.rejects(
      train(tinyConfig(dir, 5, ['checkpoint.every=0', 'checkpoint.keep=1'])),
      /step-000003.*model\.safetensors/,
    );
    assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), before);
    assert.ok(existsSync(file), 'the damaged checkpoint is left for the user to inspect');
  });
});

function editState(dir: string, step: number, edit: (s: Record<string, unknown>) => void) {
  const ck = checkpointDirForStep(dir, step);
  const path = join(ck, 'trainer_state.json');
  const s = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(s);
  writeFileSync(path, JSON.stringify(s));
  // the edit is deliberate: make the manifest agree so only the validation can catch it
  const manifestPath = join(ck, 'COMPLETE');
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    files: Record<string, { bytes: number; sha256: string }>;
  };
  const bytes = readFileSync(path);
  m.files['trainer_state.json'] = {
    ...m.files['trainer_state.json']!,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  writeFileSync(manifestPath, JSON.stringify(m));
}

for (const [what, edit, error] of [
  ['step -5', (s: Record<string, unknown>) => (s.step = -5), /field "step"/],
  [
    'step 1e9',
    (s: Record<string, unknown>) => (s.step = 1e9),
    /field "step".*past this run's steps=4/,
  ],
  ['rng "abc"', (s: Record<string, unknown>) => (s.rng = 'abc'), /field "rng"/],
  ['an unknown stage', (s: Record<string, unknown>) => (s.stage = 'warp'), /field "stage"/],
] as const) {
  test(`trainer_state.json with ${what} is refused with the field named; logs untouched`, async () => {
    await withTemp(async (dir) => {
      await train(tinyConfig(dir, 2));
      editState(dir, 2, edit);
      const before = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
      await assert.rejects(train(tinyConfig(dir, 4)), (e: Error) => {
        assert.match(e.message, /trainer_state\.json/);
        assert.match(e.message, error);
        return true;
      });
      assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), before);
    });
  });
}

test('a checkpoint without its optimizer state is refused for resuming', async () => {
  await withTemp(async (dir) => {
    await train(tinyConfig(dir, 2));
    const ck = checkpointDirForStep(dir, 2);
    rmSync(join(ck, 'optimizer.safetensors'));
    const m = JSON.parse(readFileSync(join(ck, 'COMPLETE'), 'utf8')) as {
      files: Record<string, unknown>;
    };
    delete m.files['optimizer.safetensors'];
    writeFileSync(join(ck, 'COMPLETE'), JSON.stringify(m));
    // the checkpoint before it is complete, but the newest must not be silently passed over
    await assert.rejects(train(tinyConfig(dir, 4)), /optimizer\.safetensors: missing/);
  });
});

test('two trainers on one run directory: the second is refused, naming the first', async () => {
  await withTemp(async (dir) => {
    let second: Promise<unknown> | null = null;
    await train(tinyConfig(dir, 2), {
      afterStep: () => {
        second ??= train(tinyConfig(dir, 2)).then(
          () => null,
          (e: unknown) => e,
        );
      },
    });
    assert.match(String(await second), /is in use by another trainer \(pid \d+, this process/);
    assert.deepEqual(steps(dir), [0, 1], 'no duplicated steps');
    assert.ok(!existsSync(join(dir, '.lock')), 'the lock is released at the end');
  });
});

test('a stale lock (its process is gone) is taken over with a message', async () => {
  await withTemp(async (dir) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, '.lock'),
      JSON.stringify({
        pid: 2 ** 22 + 12345,
        host: (await import('node:os')).hostname(),
        started: 'x',
      }),
    );
    const said: string[] = [];
    await train(tinyConfig(dir, 1), { onMessage: (m) => said.push(m) });
    assert.ok(
      said.some((m) => /stale lock of pid \d+/.test(m)),
      said.join('\n'),
    );
  });
});

test('raising steps on a finished run continues it', async () => {
  await withTemp(async (dir) => {
    await train(tinyConfig(dir, 3));
    const said: string[] = [];
    const r = await train(tinyConfig(dir, 5), { onMessage: (m) => said.push(m) });
    assert.equal(r.steps, 5);
    assert.deepEqual(steps(dir), [0, 1, 2, 3, 4]);
    assert.ok(
      said.some((m) => /had finished at step 3; extending it to steps=5/.test(m)),
      said.join('\n'),
    );
    assert.equal((await latestCheckpoint(dir))?.step, 5);
    assert.equal(
      deterministicLines(dir, 'eval.jsonl').length,
      2,
      'the final evals at steps 3 and 5',
    );
  });
});

test('leftovers of interrupted saves and prunes are removed at the next start', async () => {
  await withTemp(async (dir) => {
    await train(tinyConfig(dir, 2));
    const root = join(dir, 'checkpoints');
    mkdirSync(join(root, '.step-000003.tmp-999999-abcdef'));
    mkdirSync(join(root, '.trash-step-000001-999999-1'));
    const said: string[] = [];
    await train(tinyConfig(dir, 3), { onMessage: (m) => said.push(m) });
    assert.deepEqual(
      readdirSync(root).filter((e) => e.startsWith('.')),
      [],
      said.join('\n'),
    );
    assert.equal(said.filter((m) => /left by an interrupted save or prune/.test(m)).length, 2);
  });
});
