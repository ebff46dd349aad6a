import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateMixed,
  generateSample,
  generateSamples,
  maskArea,
  maskBox,
  referenceResponse,
  rewardFor,
  rewardForSample,
  Rng,
  TASK_NAMES,
  TASKS,
  type Sample,
} from '../../src/tasks/index.js';

function sameSample(a: Sample, b: Sample): void {
  assert.equal(a.id, b.id);
  assert.equal(a.prompt, b.prompt);
  assert.equal(a.solution, b.solution);
  assert.equal(a.answer, b.answer);
  assert.equal(a.think, b.think);
  assert.deepEqual(a.image.data, b.image.data);
  assert.equal(a.objects.length, b.objects.length);
}

test('rng is deterministic and covers its range', () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 1000 }, () => b.next()),
  );
  assert.notDeepEqual(
    xs.slice(0, 10),
    Array.from({ length: 10 }, () => c.next()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const ints = new Set(Array.from({ length: 1000 }, () => a.int(1, 6)));
  assert.deepEqual([...ints].sort(), [1, 2, 3, 4, 5, 6]);
});

test('every task: deterministic by seed, different across seeds', () => {
  for (const task of TASK_NAMES) {
    sameSample(generateSample(task, 7), generateSample(task, 7));
    const distinct = new Set(
      generateSamples(task, 10, 100).map((s) => Buffer.from(s.image.data).toString('base64')),
    );
    assert.ok(distinct.size >= 9, `${task} images vary with the seed`);
  }
});

test('every task: samples are well formed and the reference response earns the maximum reward', () => {
  for (const task of TASK_NAMES) {
    for (const s of generateSamples(task, 150, 1)) {
      assert.equal(s.task, task);
      assert.equal(s.image.width, 64);
      assert.equal(s.image.data.length, 64 * 64 * 3);
      assert.ok(Buffer.byteLength(s.prompt) <= 32, `${task} prompt "${s.prompt}" within 32 bytes`);
      assert.ok(s.think.length > 0 && s.think.length < 120, `${task} think is short: ${s.think}`);
      for (const o of s.objects) {
        assert.ok(maskArea(o.mask) > 0);
        if (task !== 'gui')
          assert.deepEqual(maskBox(o.mask, 64), o.box, `${task} box is the mask's box`);
        assert.equal(o.mask[o.point[1] * 64 + o.point[0]], 1, `${task} point lies on the mask`);
      }
      for (const thinking of [true, false]) {
        const r = rewardForSample(s, referenceResponse(s, thinking ? s.think : null), { thinking });
        assert.equal(r.error, undefined);
        assert.equal(
          r.total,
          r.maxTotal,
          `${task} ${s.id} reference scores max: ${JSON.stringify(r)} for ${s.answer} / ${s.solution} think ${s.think}`,
        );
      }
    }
  }
});

test('task-specific content: nonobj and anomaly produce both empty and non-empty answers; options switch them off', () => {
  for (const task of ['nonobj', 'anomaly'] as const) {
    const answers = generateSamples(task, 60, 0).map((s) => s.solution === '[]');
    assert.ok(answers.some(Boolean) && answers.some((x) => !x), task);
  }
  assert.ok(
    generateSamples('nonobj', 60, 0, { allowEmpty: false }).every((s) => s.solution !== '[]'),
  );
  assert.ok(
    generateSamples('anomaly', 60, 0, { allowDefects: false }).every((s) => s.solution === '[]'),
  );
  assert.ok(
    generateSamples('count', 200, 0, { allowEmpty: false }).every((s) => s.solution !== '0'),
  );
  const counts = generateSamples('count', 100, 0).map((s) => Number(s.solution));
  assert.ok(counts.every((c, i) => c === generateSample('count', i).objects.length));
  const refer = generateSamples('refer', 100, 0);
  assert.ok(refer.some((s) => s.objects.length > 1) && refer.some((s) => s.objects.length === 1));
});

test('count with countTrace points: the trace points at every counted object, left to right; same answer and image', () => {
  for (let i = 0; i < 40; i++) {
    const plain = generateSample('count', i);
    const pointing = generateSample('count', i, { countTrace: 'points' });
    assert.equal(pointing.solution, plain.solution);
    assert.deepEqual(pointing.image.data, plain.image.data);
    if (plain.solution === '0') {
      assert.equal(pointing.think, plain.think);
      continue;
    }
    const [points, said] = pointing.think.split(': ');
    assert.equal(said, plain.think);
    const xy = [...points!.matchAll(/\((\d+),(\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(xy.length, Number(plain.solution), pointing.think);
    const want = plain.objects
      .map((o) => [o.point[0]!, o.point[1]!])
      .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    assert.deepEqual(xy, want);
  }
});

test('a wrong answer scores below the maximum; unknown tasks give an error, not a throw', () => {
  const s = generateSample('refer', 3);
  const r = rewardForSample(
    s,
    '<think>x</think><answer>[{"bbox_2d": [0, 0, 1, 1], "point_2d": [0, 0]}]</answer>',
  );
  assert.ok(r.total < r.maxTotal);
  assert.match(rewardFor('bogus', 'x', '[]').error ?? '', /unknown task/);
  assert.equal(TASKS.gui.answerKind, 'click');
});

test('larger images scale the scene', () => {
  const s = generateSample('refer', 5, { width: 128, height: 96 });
  assert.equal(s.image.width, 128);
  assert.equal(s.image.height, 96);
  assert.equal(rewardForSample(s, referenceResponse(s)).total, 7);
});

test('generation is fast: thousands of samples per second at 64x64', () => {
  // CPU time rather than wall time, so a busy shared machine does not fail the test.
  const t0 = process.cpuUsage();
  let n = 0;
  for (const task of TASK_NAMES) n += generateSamples(task, 200, 9).length;
  const used = process.cpuUsage(t0);
  const perSecond = n / ((used.user + used.system) / 1e6);
  assert.ok(perSecond > 1000, `${perSecond.toFixed(0)} samples/s`);
});

test('generateMixed cycles through tasks with per-sample seeds', () => {
  const mixed = generateMixed(['refer', 'count', 'chart'], 7, 40);
  assert.deepEqual(
    mixed.map((s) => s.task),
    ['refer', 'count', 'chart', 'refer', 'count', 'chart', 'refer'],
  );
  assert.equal(mixed[4]!.id, generateSample('count', 44).id);
  assert.deepEqual(mixed[4]!.image.data, generateSample('count', 44).image.data);
});
