/**
 * Crash and interrupt through the real CLI: `visurf train` runs as a child process and is
 * SIGKILLed at random moments (while starting or resuming, during steps, while a checkpoint
 * directory is being written, and exactly before/after a checkpoint is renamed into place), then
 * started again with the same command until it completes. After every kill the latest checkpoint
 * must load completely and never go back; at the end every deterministic number in metrics.jsonl
 * and eval.jsonl and the final weights and optimizer state must equal an uninterrupted run's.
 * Ctrl-C (SIGINT) must finish the step, save, exit 130 saying how to resume, and resume exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointDirForStep, latestCheckpoint, loadModel } from '../../src/model/index.js';
import {
  CRASH_PRELOAD,
  deterministicLines,
  rng,
  sleep,
  runSnapshot,
  spawnTrain,
  steps,
  tinySets,
  trainCli,
  withTemp,
} from './helpers.js';

const STEPS = 10;
const args = (dir: string) => [
  '--method',
  'visurf',
  '--run-dir',
  dir,
  ...tinySets(STEPS).flatMap((s) => ['--set', s]),
];

const snapshot = (dir: string) => runSnapshot(dir, STEPS);

function assertSameRun(dir: string, ref: ReturnType<typeof snapshot>, what: string) {
  const got = snapshot(dir);
  assert.equal(got.metrics.length, STEPS, `${what}: one log line per step`);
  assert.deepEqual(got.metrics, ref.metrics, `${what}: metrics differ from the uninterrupted run`);
  assert.deepEqual(got.evals, ref.evals, `${what}: evaluation differs`);
  assert.ok(got.weights.equals(ref.weights), `${what}: final weights differ`);
  assert.ok(got.optimizer.equals(ref.optimizer), `${what}: final optimizer state differs`);
}

type Kill = 'start' | 'step' | 'save' | `rename:${number}:${'before' | 'after'}`;
const PLAN: Kill[] = [
  'start',
  'step',
  'save',
  'rename:1:before',
  'step',
  'save',
  'rename:2:after',
  'start',
  'step',
  'save',
  'rename:1:after',
  'step',
  'save',
  'rename:2:before',
  'step',
  'save',
];

test(
  `SIGKILL at ${PLAN.length} planned points (start, step, checkpoint write, rename) resumes exactly`,
  { timeout: 180_000 },
  async () => {
    await withTemp(async (tmp) => {
      const refDir = join(tmp, 'ref');
      const r0 = trainCli(args(refDir));
      assert.equal(r0.status, 0, r0.stderr);
      const ref = snapshot(refDir);

      const dir = join(tmp, 'killed');
      const ckDir = join(dir, 'checkpoints');
      const r = rng(2026);
      let seen = 0; // latest checkpoint step observed so far
      const landed: string[] = [];
      let completed = false;
      for (const kind of PLAN) {
        const env: Record<string, string> = kind.startsWith('rename:')
          ? { VISURF_TEST_CRASH_RENAME: kind.slice(7) }
          : {};
        const c = spawnTrain(
          args(dir),
          env,
          kind.startsWith('rename:') ? ['--import', CRASH_PRELOAD] : [],
        );
        let exitedAlone = false;
        void c.exited.then(() => (exitedAlone = true));
        if (kind === 'start') {
          await sleep(Math.floor(r() * 400));
        } else if (kind === 'step') {
          await c.waitForStderr(/train visurf \d+\/\d+/).catch(() => undefined);
          await sleep(Math.floor(r() * 40));
        } else if (kind === 'save') {
          // Poll the checkpoints directory for a save in progress (temp or moved-aside dir).
          const t0 = Date.now();
          let hit = false;
          while (!exitedAlone && Date.now() - t0 < 60_000) {
            if (existsSync(ckDir) && readdirSync(ckDir).some((e) => /\.(tmp|old)-/.test(e))) {
              hit = true;
              break;
            }
            await new Promise((res) => setImmediate(res));
          }
          if (hit) c.child.kill('SIGKILL');
        }
        if (!kind.startsWith('rename:')) c.child.kill('SIGKILL');
        const how = await c.exited;
        if (how === 0) {
          completed = true;
          break;
        }
        assert.equal(how, 'SIGKILL', `${kind}: child failed instead: ${c.stderr()}`);
        const latest = await latestCheckpoint(dir);
        if (seen > 0)
          assert.ok(
            latest && latest.step >= seen,
            `${kind}: checkpoint went back from ${seen} to ${latest?.step}`,
          );
        if (latest) {
          await loadModel(latest.path); // complete and consistent, or this throws
          seen = latest.step;
        }
        landed.push(`${kind}@ckpt${latest?.step ?? '-'}/log${steps(dir).at(-1) ?? '-'}`);
      }
      console.log(
        `kills landed (${landed.length}): ${landed.join(' ')}${completed ? '; run completed on its own' : ''}`,
      );
      assert.ok(landed.length >= 12, `only ${landed.length} kills landed before the run completed`);
      assert.ok(
        landed.filter((l) => l.startsWith('save')).length >= 3,
        'kills during checkpoint writes',
      );
      assert.equal(landed.filter((l) => l.startsWith('rename')).length, 4);
      const fin = trainCli(args(dir));
      assert.equal(fin.status, 0, fin.stderr);
      assertSameRun(dir, ref, 'killed and resumed');
      // No debris of killed saves survives a completed run's checkpoint listing.
      const left = readdirSync(ckDir);
      assert.ok(
        left.every((e) => /^step-\d+$/.test(e) || /\.(tmp|old)-/.test(e)),
        `unexpected entries ${left}`,
      );
    });
  },
);

test(
  'SIGINT finishes the step, saves, exits 130 with how to resume; a second SIGINT aborts; resuming matches an uninterrupted run',
  { timeout: 120_000 },
  async () => {
    await withTemp(async (tmp) => {
      const refDir = join(tmp, 'ref');
      const r0 = trainCli(args(refDir));
      assert.equal(r0.status, 0, r0.stderr);
      const ref = snapshot(refDir);
      const dir = join(tmp, 'int');
      for (const at of [2, 5]) {
        const c = spawnTrain(args(dir));
        await c.waitForStderr(new RegExp(`train visurf ${at}/${STEPS}`));
        c.child.kill('SIGINT');
        const code = await c.exited;
        assert.equal(code, 130, c.stderr());
        assert.match(c.stderr(), /interrupt \(SIGINT\): finishing the current step/);
        assert.match(
          c.stderr(),
          /interrupted before step (\d+); checkpoint saved in .*Resume with the same command/,
        );
        const stoppedAt = Number(/interrupted before step (\d+)/.exec(c.stderr())![1]);
        assert.ok(stoppedAt >= at && stoppedAt < STEPS);
        const latest = await latestCheckpoint(dir);
        assert.equal(latest?.step, stoppedAt, 'the checkpoint is at the step the run stopped');
        assert.equal(steps(dir).at(-1), stoppedAt - 1, 'every finished step is logged');
      }
      // A second Ctrl-C aborts at once; the last checkpoint still stands.
      const before = (await latestCheckpoint(dir))!.step;
      const c2 = spawnTrain(args(dir));
      await c2.waitForStderr(/train visurf \d+\/\d+/);
      c2.child.kill('SIGINT');
      await c2.waitForStderr(/interrupt \(SIGINT\): finishing the current step/);
      c2.child.kill('SIGINT');
      assert.equal(await c2.exited, 130);
      const after = await latestCheckpoint(dir);
      assert.ok(after && after.step >= before);
      await loadModel(after.path);
      const fin = trainCli(args(dir));
      assert.equal(fin.status, 0, fin.stderr);
      assert.match(fin.stderr, /resuming from .*\(step \d+\)/);
      assertSameRun(dir, ref, 'interrupted and resumed');
    });
  },
);
