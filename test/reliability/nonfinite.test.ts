/**
 * Numerical faults on real runs: VISURF_TEST_INJECT_NAN (src/train/guard.ts) writes NaN into a
 * gradient of chosen steps, and the real detection path must handle it: skip mode skips and
 * logs the step without touching weights or optimizer state; stop mode saves the last good
 * weights and stops with a diagnosis (and resuming afterwards equals a run that never faulted);
 * consecutive faults stop after maxNonFiniteSteps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointDirForStep, latestCheckpoint, loadModel } from '../../src/model/index.js';
import { INJECT_NAN_ENV, parseStepSpec } from '../../src/train/fault-injection.js';
import { NonFiniteTrainingError, train } from '../../src/train/trainer.js';
import { deterministicLines, tinyConfig, tinySets, trainCli, withTemp } from './helpers.js';
import { fromTrackerRecord } from '../../src/train/step-log.js';

const KEEP = ['checkpoint.keep=20'];

async function withInjection<T>(spec: string, fn: () => Promise<T>): Promise<T> {
  process.env[INJECT_NAN_ENV] = spec;
  try {
    return await fn();
  } finally {
    delete process.env[INJECT_NAN_ENV];
  }
}

const file = (dir: string, step: number, name: string) =>
  readFileSync(join(checkpointDirForStep(dir, step), name));

async function assertFinite(dir: string, step: number) {
  const { model, optimizer } = await loadModel(checkpointDirForStep(dir, step));
  for (const [name, p] of model.params)
    assert.ok(p.data.every(Number.isFinite), `${name} has NaN/Inf at step ${step}`);
  for (const m of [...optimizer!.m, ...optimizer!.v])
    assert.ok(m.every(Number.isFinite), 'optimizer state has NaN/Inf');
}

const logs = (dir: string) =>
  deterministicLines(dir).map((l) => fromTrackerRecord(JSON.parse(l) as Record<string, unknown>));

test('step specs', () => {
  assert.deepEqual([...parseStepSpec('3')], [3]);
  assert.deepEqual([...parseStepSpec('1,4-6')], [1, 4, 5, 6]);
  assert.throws(() => parseStepSpec('x'), /not a step/);
  assert.throws(() => parseStepSpec('5-2'), /bad range/);
});

test('skip mode: a NaN gradient skips and logs the step; weights and optimizer state are untouched and finite', async () => {
  await withTemp(async (dir) => {
    const said: string[] = [];
    await withInjection('2', () =>
      train(tinyConfig(dir, 5, KEEP), { onMessage: (m) => said.push(m) }),
    );
    const l = logs(dir);
    assert.deepEqual(
      l.map((x) => x.step),
      [0, 1, 2, 3, 4],
      'the run completes',
    );
    assert.deepEqual(
      l.map((x) => x.skipped),
      [false, false, true, false, false],
    );
    assert.equal(l[2]!.gradNorm, null, 'NaN grad norm is logged (as null in JSON)');
    assert.ok(
      said.some((m) => /^step 2: non-finite loss or gradient .*update skipped/.test(m)),
      said.join('\n'),
    );
    // Checkpoint 3 (after the skipped step 2) holds exactly the weights and moments of checkpoint 2.
    assert.ok(file(dir, 3, 'model.safetensors').equals(file(dir, 2, 'model.safetensors')));
    assert.ok(file(dir, 3, 'optimizer.safetensors').equals(file(dir, 2, 'optimizer.safetensors')));
    assert.ok(
      !file(dir, 4, 'model.safetensors').equals(file(dir, 3, 'model.safetensors')),
      'training goes on after',
    );
    for (const s of [3, 5]) await assertFinite(dir, s);
  });
});

test('stop mode: stops with the last good weights saved and a diagnosis; resuming equals a run that never faulted', async () => {
  await withTemp(async (tmp) => {
    const ref = join(tmp, 'ref');
    await train(tinyConfig(ref, 5, KEEP));
    const dir = join(tmp, 'run');
    const cfg = tinyConfig(dir, 5, [...KEEP, 'onNonFinite=stop']);
    const err = await withInjection('3', () => train(cfg)).then(
      () => assert.fail('expected a NonFiniteTrainingError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NonFiniteTrainingError);
    assert.match(
      err.message,
      /^step 3: 1 consecutive step\(s\) with NaN\/Inf in the loss or gradients; stopped with the last good weights saved in .*Lower optim\.lr or check the data/,
    );
    assert.equal((await latestCheckpoint(dir))?.step, 3);
    assert.ok(
      file(dir, 3, 'model.safetensors').equals(file(ref, 3, 'model.safetensors')),
      'saved weights are the last good ones',
    );
    await assertFinite(dir, 3);
    assert.deepEqual(
      logs(dir).map((x) => x.step),
      [0, 1, 2],
      'the faulty step is not logged as done',
    );
    // The fault was transient: resuming (no injection) reproduces the clean run exactly.
    await train(cfg);
    assert.deepEqual(deterministicLines(dir), deterministicLines(ref));
    assert.ok(file(dir, 5, 'model.safetensors').equals(file(ref, 5, 'model.safetensors')));
  });
});

test('repeated faults stop after maxNonFiniteSteps consecutive ones; isolated ones do not add up', async () => {
  await withTemp(async (tmp) => {
    const dir = join(tmp, 'persistent');
    await assert.rejects(
      withInjection('1-100', () => train(tinyConfig(dir, 8, [...KEEP, 'maxNonFiniteSteps=3']))),
      (e: unknown) =>
        e instanceof NonFiniteTrainingError && /^step 3: 3 consecutive step\(s\)/.test(e.message),
    );
    assert.deepEqual(
      logs(dir).map((x) => x.skipped),
      [false, true, true],
    );
    for (const s of [2, 3])
      assert.ok(file(dir, s, 'model.safetensors').equals(file(dir, 1, 'model.safetensors')));
    await assertFinite(dir, 3);

    const iso = join(tmp, 'isolated');
    await withInjection('1,3,5', () => train(tinyConfig(iso, 7, [...KEEP, 'maxNonFiniteSteps=2'])));
    assert.deepEqual(
      logs(iso).map((x) => x.skipped),
      [false, true, false, true, false, true, false],
    );
    await assertFinite(iso, 7);
  });
});

test('CLI: stop mode exits non-zero with the diagnosis', async () => {
  await withTemp(async (dir) => {
    const r = trainCli(
      [
        '--method',
        'visurf',
        '--run-dir',
        dir,
        ...tinySets(4, ['onNonFinite=stop']).flatMap((s) => ['--set', s]),
      ],
      { [INJECT_NAN_ENV]: '1' },
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /visurf: step 1: 1 consecutive step\(s\) with NaN\/Inf .* stopped with the last good weights saved/,
    );
    assert.equal((await latestCheckpoint(dir))?.step, 1);
  });
});
