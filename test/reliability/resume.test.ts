/**
 * Crash and resume in-process: the trainer's afterStep hook throws (a crash after a step is
 * logged) at chosen steps, the run is started again with the same config, and everything
 * deterministic it logs (losses, rewards, gradient norms, token counts, ...), the evaluation and
 * the final weights must equal an uninterrupted run's bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointDirForStep, latestCheckpoint } from '../../src/model/index.js';
import { train } from '../../src/train/trainer.js';
import { deterministicLines, steps, tinyConfig, withTemp } from './helpers.js';

const STEPS = 6;

class Crash extends Error {}

async function reference(dir: string, extra: string[]) {
  await train(tinyConfig(dir, STEPS, extra));
  return {
    metrics: deterministicLines(dir),
    evals: deterministicLines(dir, 'eval.jsonl'),
    weights: readFileSync(join(checkpointDirForStep(dir, STEPS), 'model.safetensors')),
    optimizer: readFileSync(join(checkpointDirForStep(dir, STEPS), 'optimizer.safetensors')),
  };
}

// Crash plans per checkpoint interval: each list is the steps after which successive attempts
// crash. With every=2 a crash after an even step loses that step (no checkpoint after it), so
// the same step is crashed twice in a row and its log line must be replaced, not duplicated.
const PLAN_SETS: Record<number, number[][]> = {
  1: [[2], [5], [0, 1, 4]],
  2: [[0, 0, 2, 2, 5], [3]],
};

for (const [every, PLANS] of Object.entries(PLAN_SETS).map(([e, p]) => [Number(e), p] as const)) {
  test(`in-process crash after steps ${PLANS.map((p) => p.join('+')).join(', ')} resumes exactly (checkpoint.every=${every})`, async () => {
    await withTemp(async (tmp) => {
      const extra = [`checkpoint.every=${every}`];
      const ref = await reference(join(tmp, 'ref'), extra);
      assert.equal(ref.metrics.length, STEPS);
      let crashes = 0;
      for (const [p, plan] of PLANS.entries()) {
        const dir = join(tmp, `run${p}`);
        const cfg = tinyConfig(dir, STEPS, extra);
        for (const at of plan) {
          await assert.rejects(
            train(cfg, {
              afterStep: (s) => {
                if (s === at) throw new Crash(`crash after step ${s}`);
              },
            }),
            Crash,
          );
          crashes++;
          // The crash left the log of step `at` and a checkpoint at or before step at+1.
          assert.equal(steps(dir).at(-1), at);
          const latest = await latestCheckpoint(dir);
          const expected = at + 1 === STEPS ? STEPS : Math.floor((at + 1) / every) * every;
          assert.equal(
            latest?.step ?? 0,
            expected,
            `latest checkpoint after a crash at step ${at}`,
          );
        }
        const done = await train(cfg);
        assert.equal(done.steps, STEPS);
        assert.deepEqual(
          deterministicLines(dir),
          ref.metrics,
          `plan ${plan}: metrics differ from the uninterrupted run`,
        );
        assert.deepEqual(
          deterministicLines(dir, 'eval.jsonl'),
          ref.evals,
          `plan ${plan}: eval differs`,
        );
        const ck = checkpointDirForStep(dir, STEPS);
        assert.ok(
          readFileSync(join(ck, 'model.safetensors')).equals(ref.weights),
          `plan ${plan}: final weights differ`,
        );
        assert.ok(
          readFileSync(join(ck, 'optimizer.safetensors')).equals(ref.optimizer),
          `plan ${plan}: optimizer state differs`,
        );
      }
      assert.equal(crashes, PLANS.flat().length);
    });
  });
}

test('a completed run started again changes nothing', async () => {
  await withTemp(async (tmp) => {
    const cfg = tinyConfig(tmp, 3);
    await train(cfg);
    const before = deterministicLines(tmp);
    const evals = deterministicLines(tmp, 'eval.jsonl');
    const again = await train(cfg);
    assert.equal(again.steps, 3);
    assert.deepEqual(deterministicLines(tmp), before);
    assert.deepEqual(deterministicLines(tmp, 'eval.jsonl'), evals);
  });
});

test('resuming with a changed config warns with the changed keys; the same config does not', async () => {
  await withTemp(async (dir) => {
    await train(tinyConfig(dir, 2));
    const same: string[] = [];
    await train(tinyConfig(dir, 2), { onMessage: (m) => same.push(m) });
    assert.ok(
      same.some((m) => /^resuming from /.test(m)) && !same.some((m) => /differs/.test(m)),
      same.join('\n'),
    );
    const changed: string[] = [];
    await train(tinyConfig(dir, 3, ['optim.lr=0.001']), { onMessage: (m) => changed.push(m) });
    const w = changed.find((m) => /differs/.test(m));
    assert.ok(w, changed.join('\n'));
    assert.match(
      w,
      /resuming with a config that differs from .*config\.json: optim\.lr 0\.003 -> 0\.001, steps 2 -> 3; the run will not match an uninterrupted one/,
    );
  });
});

test('a damaged latest checkpoint (truncated or bit-flipped) is passed over: the run resumes from the one before, exactly', async () => {
  await withTemp(async (tmp) => {
    const ref = await reference(join(tmp, 'ref'), []);
    for (const damage of ['truncate', 'flip'] as const) {
      const dir = join(tmp, damage);
      const cfg = tinyConfig(dir, STEPS);
      await train(cfg);
      const file = join(checkpointDirForStep(dir, STEPS), 'model.safetensors');
      const bytes = readFileSync(file);
      if (damage === 'truncate') writeFileSync(file, bytes.subarray(0, bytes.length - 100));
      else {
        bytes[bytes.length - 50] ^= 0x40;
        writeFileSync(file, bytes);
      }
      const said: string[] = [];
      await train(cfg, { onMessage: (m) => said.push(m) });
      assert.ok(
        said.some((m) => m.includes(`(step ${STEPS - 1})`)),
        `${damage}: ${said.join('\n')}`,
      );
      if (damage === 'flip')
        assert.ok(
          said.some((m) =>
            /step-000006 cannot be loaded \(.*SHA-256 does not match.*\); trying the checkpoint before it/.test(
              m,
            ),
          ),
          said.join('\n'),
        );
      assert.deepEqual(deterministicLines(dir), ref.metrics, damage);
      assert.deepEqual(deterministicLines(dir, 'eval.jsonl'), ref.evals, damage);
      assert.ok(readFileSync(file).equals(ref.weights), `${damage}: final weights`);
    }
    // Every checkpoint damaged: a clear error, not a silent fresh start over the run.
    const dir = join(tmp, 'flip');
    for (const step of [STEPS - 1, STEPS]) {
      const f = join(checkpointDirForStep(dir, step), 'optimizer.safetensors');
      const b = readFileSync(f);
      b[b.length - 1] ^= 1;
      writeFileSync(f, b);
    }
    const before = deterministicLines(dir);
    await assert.rejects(
      train(tinyConfig(dir, STEPS)),
      /step-000006\/optimizer\.safetensors: SHA-256 does not match/,
    );
    assert.deepEqual(deterministicLines(dir), before, 'the logs are untouched');
  });
});
