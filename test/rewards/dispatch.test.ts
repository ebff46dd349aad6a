import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewardForKind, type AnswerKind } from '../../src/rewards/index.js';

const RAW = { width: 840, height: 840, referenceSize: 840 };
const SOL = '[{"bbox_2d": [100, 100, 199, 199], "point_2d": [150, 150]}]';

test('objects: components and total of a perfect response', () => {
  const r = rewardForKind('objects', `<think>red one</think><answer>${SOL}</answer>`, SOL, RAW);
  assert.deepEqual(r, {
    kind: 'objects',
    thinkFormat: 1,
    answerFormat: 2,
    accuracy: 3,
    nonRepeat: 1,
    total: 7,
    maxTotal: 7,
  });
});

test('objects: empty truth, empty answer is full marks; non-empty answer scores no accuracy', () => {
  assert.equal(rewardForKind('objects', '<think>none</think><answer>[]</answer>', '[]').total, 7);
  const r = rewardForKind('objects', `<think>x</think><answer>${SOL}</answer>`, '[]', RAW);
  assert.equal(r.accuracy, 0);
  assert.equal(r.answerFormat, 2);
});

test('no-thinking mode: thinkFormat is null and excluded from the total', () => {
  const r = rewardForKind('objects', `<answer>${SOL}</answer>`, SOL, { ...RAW, thinking: false });
  assert.equal(r.thinkFormat, null);
  assert.equal(r.total, 6);
  assert.equal(r.maxTotal, 6);
  const wrapped = rewardForKind('objects', `<think>a</think><answer>${SOL}</answer>`, SOL, {
    ...RAW,
    thinking: false,
  });
  assert.equal(wrapped.answerFormat, 0, 'a think block breaks the answer-only shape');
});

test('click: point inside the target control box', () => {
  const sol = '[{"bbox_2d": [10, 10, 20, 15], "point_2d": [15, 12]}]';
  const hit = rewardForKind(
    'click',
    '<think>t</think><answer>[{"point_2d": [20, 15]}]</answer>',
    sol,
  );
  assert.equal(hit.accuracy, 1);
  assert.equal(hit.answerFormat, 1);
  const miss = rewardForKind(
    'click',
    '<think>t</think><answer>[{"point_2d": [21, 15]}]</answer>',
    sol,
  );
  assert.equal(miss.accuracy, 0);
  assert.equal(miss.answerFormat, 1);
  assert.equal(rewardForKind('click', '<think>t</think><answer>[]</answer>', sol).answerFormat, 0);
});

test('count, number, text and caption answers', () => {
  const r = (k: AnswerKind, a: string, s: string) =>
    rewardForKind(k, `<think>t</think><answer>${a}</answer>`, s);
  assert.equal(r('count', '3', '3').accuracy, 1);
  assert.equal(r('count', ' 3 ', '3').accuracy, 1);
  assert.equal(r('count', '4', '3').accuracy, 0);
  assert.equal(r('count', '4', '3').answerFormat, 1);
  assert.equal(r('count', 'three', '3').answerFormat, 0);
  assert.equal(r('count', '-1', '3').answerFormat, 0);
  // VisionReasoner-style counting: a list of objects counts by its length, on either side.
  assert.equal(r('count', '[{"bbox_2d": [1, 1, 2, 2]}, {"point_2d": [5, 5]}]', '2').accuracy, 1);
  assert.equal(r('count', '[]', '0').accuracy, 1);
  assert.equal(
    r('count', '2', '[{"bbox_2d": [1, 1, 2, 2]}, {"bbox_2d": [4, 4, 6, 6]}]').accuracy,
    1,
  );
  assert.equal(r('count', '[{', '2').answerFormat, 0);
  assert.equal(r('number', '12.0', '12').accuracy, 1);
  assert.equal(r('number', '1e309', '12').answerFormat, 0);
  assert.equal(r('number', 'NaN', '12').answerFormat, 0);
  assert.equal(r('number', '-2', '-2').accuracy, 1);
  assert.equal(r('text', ' Red ', 'red').accuracy, 1);
  assert.equal(r('text', 'blue', 'red').accuracy, 0);
  assert.equal(
    r('caption', 'red circle', 'red circle, blue square').accuracy,
    (2 * (1 * 0.5)) / 1.5,
  );
  assert.equal(r('caption', '', 'red circle').answerFormat, 0);
});

test('malformed solutions and unknown kinds give zeros with an error, never a throw', () => {
  const bad = rewardForKind('objects', '<think>t</think><answer>[]</answer>', '[{');
  assert.equal(bad.total, 0);
  assert.match(bad.error ?? '', /solution/);
  assert.match(rewardForKind('nope' as AnswerKind, 'x', '[]').error ?? '', /unknown/);
  assert.equal(rewardForKind('count', 'x', 5 as unknown as string).total, 0);
  assert.equal(rewardForKind('click', 'x', '[]').error !== undefined, true);
});
