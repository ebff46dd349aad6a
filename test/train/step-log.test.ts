/** metrics.jsonl: tracker keys on disk, StepLogs in memory, both ways; older camelCase lines still read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  STEP_LOG_KEYS,
  fromTrackerRecord,
  readStepLogs,
  stepLogLine,
  toTrackerRecord,
  type StepLog,
} from '../../src/train/step-log.js';

const LOG: StepLog = {
  step: 3,
  phase: 'visurf',
  lr: 0.001,
  rewardMean: 4.5,
  rewardStd: 1.25,
  components: { thinkFormat: 1, accuracy: 0.75, my_custom: 0.5 },
  accuracyRate: 0.25,
  labelNll: Number.NaN,
  loss: 0.5,
  clipFraction: 0,
  approxKl: 0,
  entropy: 0.1,
  kl: 0,
  gradNorm: 0.3,
  gradNormRl: 0.2,
  gradNormSft: 0.1,
  clipScale: 1,
  skipped: false,
  forwardTokens: 100,
  backwardTokens: 90,
  generatedTokens: 40,
  rolloutSeconds: 0.5,
  updateSeconds: 0.25,
  totalGeneratedTokens: 400,
  totalTrainedTokens: 900,
  seconds: 0.8,
  totalSeconds: 3.2,
  peakRssMb: 512,
};

test('a step is written with flat slash keys and read back to the same StepLog', () => {
  const rec = toTrackerRecord(LOG);
  assert.equal(rec['reward/accuracy/mean'], 0.75);
  assert.equal(rec['reward/my_custom/mean'], 0.5, 'a custom component keeps its own name');
  assert.equal(rec['time/rollout_s'], 0.5);
  assert.equal(rec['tokens/generated'], 40);
  assert.equal(rec['memory/peak_rss_mb'], 512);
  assert.ok(
    Object.keys(rec).every((k) => k === 'step' || k === 'phase' || k.includes('/')),
    'every value under a group',
  );
  assert.ok(
    Object.values(rec).every((v) => typeof v !== 'object' || v === null),
    'no nesting',
  );
  // NaN is written as null by JSON; everything else round-trips exactly
  const back = fromTrackerRecord(JSON.parse(stepLogLine(LOG)) as Record<string, unknown>);
  assert.deepEqual(back, { ...LOG, labelNll: null });
  // every StepLog field has its own key
  assert.equal(new Set(Object.values(STEP_LOG_KEYS)).size, Object.keys(STEP_LOG_KEYS).length);
});

test('readStepLogs: new and older lines alike, a torn last line skipped, other bad lines named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'visurf-steplog-'));
  try {
    const path = join(dir, 'metrics.jsonl');
    const old = { step: 0, phase: 'sft', loss: 2, components: { accuracy: 1 } };
    writeFileSync(path, `${JSON.stringify(old)}\n${stepLogLine(LOG)}{"step": 4, "pha`);
    const got = readStepLogs(path);
    assert.equal(got.length, 2);
    assert.deepEqual(got[0], old);
    assert.equal(got[1]!.components!['accuracy'], 0.75);
    writeFileSync(path, `{"step": 0\n${stepLogLine(LOG)}`);
    assert.throws(() => readStepLogs(path), /metrics\.jsonl:1: not valid JSON/);
    assert.deepEqual(readStepLogs(join(dir, 'none.jsonl')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
