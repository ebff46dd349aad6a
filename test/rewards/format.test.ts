import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerFormatReward,
  answerOnlyFormatReward,
  formatAnswerObjects,
  jsonDepth,
  nonRepeatReward,
  parseAnswerObjects,
  safeJsonParse,
  splitResponse,
  thinkingFormatReward,
} from '../../src/rewards/index.js';

test('thinking format: full match of <think>.*?</think>\\s*<answer>.*?</answer>', () => {
  assert.equal(thinkingFormatReward('<think>a</think><answer>[]</answer>'), 1);
  assert.equal(thinkingFormatReward('<think></think> \n\t<answer></answer>'), 1);
  assert.equal(thinkingFormatReward('<think>x\ny</think>\n<answer>\n[]\n</answer>'), 1, 'dotall');
  assert.equal(
    thinkingFormatReward('<think>a</think><think>b</think><answer>1</answer>'),
    1,
    '.*? may span tags',
  );
  assert.equal(thinkingFormatReward(' <think>a</think><answer>1</answer>'), 0, 'leading text');
  assert.equal(thinkingFormatReward('<think>a</think><answer>1</answer>.'), 0, 'trailing text');
  assert.equal(
    thinkingFormatReward('<think>a</think>x<answer>1</answer>'),
    0,
    'text between blocks',
  );
  assert.equal(thinkingFormatReward('<answer>1</answer>'), 0);
  assert.equal(thinkingFormatReward('<think>a</think>'), 0);
  assert.equal(thinkingFormatReward('<think>a</think><answer>'), 0);
  assert.equal(thinkingFormatReward('<think></think><answer></answer>'), 1);
  // `<answer></answer>` must not be formed by overlapping a single tag.
  assert.equal(thinkingFormatReward('<think></think><answer>'.slice(0, -1) + '</answer>'), 0);
  assert.equal(thinkingFormatReward(42), 0);
  assert.equal(thinkingFormatReward(null), 0);
});

test('thinking format agrees with the reference regex on random tag soup', () => {
  const re = /^<think>[\s\S]*?<\/think>\s*<answer>[\s\S]*?<\/answer>$/;
  const parts = ['<think>', '</think>', '<answer>', '</answer>', ' ', '\n', 'a', '[]', '<', '>'];
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let n = 0; n < 3000; n++) {
    let s = '';
    const len = Math.floor(rnd() * 9);
    for (let i = 0; i < len; i++) s += parts[Math.floor(rnd() * parts.length)];
    assert.equal(thinkingFormatReward(s), re.test(s) ? 1 : 0, JSON.stringify(s));
  }
});

test('answer-only format for no-thinking mode', () => {
  assert.equal(answerOnlyFormatReward('<answer>[]</answer>'), 1);
  assert.equal(answerOnlyFormatReward('<answer></answer>'), 1);
  assert.equal(answerOnlyFormatReward('<think></think><answer>[]</answer>'), 0);
  assert.equal(answerOnlyFormatReward('<answer>'), 0);
});

test('answer format: per object +1 bbox, +1 point, averaged; empty list is 2', () => {
  const r = (a: string) => answerFormatReward(`<think>t</think><answer>${a}</answer>`);
  assert.equal(r('[]'), 2);
  assert.equal(r(' [ ] '), 2);
  assert.equal(r('[{"bbox_2d":[1,2,3,4],"point_2d":[2,3]}]'), 2);
  assert.equal(r('[{"bbox_2d":[1,2,3,4]}]'), 1);
  assert.equal(r('[{"point_2d":[2,3]}]'), 1);
  assert.equal(r('[{"bbox_2d":[1,2,3,4],"point_2d":[2,3]},{"bbox_2d":[1,2,3]}]'), 1);
  assert.equal(r('[{"bbox_2d":[1,2,3,"4"],"point_2d":[2,3,4]}]'), 0);
  assert.equal(
    r('[{"bbox_2d":[1,2,3,1e309],"point_2d":[2,3]}]'),
    1,
    '1e309 is Infinity, not a number',
  );
  assert.equal(r('[1, "x", null]'), 0);
  assert.equal(r('{"bbox_2d":[1,2,3,4]}'), 0, 'not a list');
  assert.equal(r('[{"bbox_2d":[1,2,3,4]'), 0, 'truncated');
  assert.equal(r('[NaN]'), 0);
  assert.equal(answerFormatReward('no tags at all'), 0);
  // x2 < x1 is still four numbers: the format is fine, the accuracy reward judges it.
  assert.equal(r('[{"bbox_2d":[9,9,1,1],"point_2d":[0,0]}]'), 2);
});

test('splitResponse finds think and answer; parse rejects deep nesting and huge answers', () => {
  assert.deepEqual(splitResponse('<think>a</think><answer>b</answer>'), {
    think: 'a',
    answer: 'b',
  });
  assert.deepEqual(splitResponse('<answer>b</answer>'), { think: null, answer: 'b' });
  assert.deepEqual(splitResponse('<think>a'), { think: null, answer: null });
  assert.equal(jsonDepth('[[["]]]]]]"]]]'), 3);
  assert.equal(safeJsonParse('['.repeat(100000) + ']'.repeat(100000)).ok, false);
  assert.equal(safeJsonParse('[' + '1,'.repeat(20000) + '1]').ok, false);
  const p = parseAnswerObjects('[{"bbox_2d":[1,2,3,4],"point_2d":[2,3]}, 5]');
  assert.ok(p.ok);
  assert.deepEqual(p.ok && p.objects, [
    { bbox: [1, 2, 3, 4], point: [2, 3] },
    { bbox: null, point: null },
  ]);
});

test('formatAnswerObjects renders the policy style and parses back', () => {
  const objs = [
    {
      bbox: [10, 20, 30, 40] as [number, number, number, number],
      point: [20, 30] as [number, number],
    },
  ];
  const s = formatAnswerObjects(objs);
  assert.equal(s, '[{"bbox_2d": [10, 20, 30, 40], "point_2d": [20, 30]}]');
  const p = parseAnswerObjects(s);
  assert.ok(p.ok);
  assert.deepEqual(p.ok && p.objects, objs);
  assert.equal(formatAnswerObjects([]), '[]');
});

test('non-repeat, the reference rule: split on "." only, tags kept, 0 from the second repeat', () => {
  // Worked cases of VisionReasoner's non_repeat_reward. Tags stay in the pieces: the first piece
  // here is "<think>The red one" and the second "The red one" — different, so no repeat.
  assert.equal(nonRepeatReward('<think>The red one. The red one.</think><answer>[]</answer>'), 1);
  // One repeat is allowed ("It is left" twice)...
  assert.equal(nonRepeatReward('<think>A. It is left. It is left.</think><answer>[]</answer>'), 1);
  // ...two repeats are not (the same sentence a third time, or two different ones repeated).
  assert.equal(nonRepeatReward('<think>A. B. B. B.</think><answer>[]</answer>'), 0);
  assert.equal(nonRepeatReward('A. B. A. B.'), 0);
  // (with the tag, the first "A" is "<think>A": only "B" repeats, once)
  assert.equal(nonRepeatReward('<think>A. B. A. B.</think><answer>[]</answer>'), 1);
  // Only "." splits: "!", "?" and newlines do not ("go! go!" is one piece).
  assert.equal(nonRepeatReward('<think>go! go! go! go!</think>'), 1);
  assert.equal(nonRepeatReward('x\nx\nx. y? y? y.'), 1);
  // Pieces are stripped and empty ones dropped: "a .  a. . a" is "a" three times.
  assert.equal(nonRepeatReward('a .  a. . a'), 0);
  assert.equal(nonRepeatReward('...'), 1);
  assert.equal(nonRepeatReward(''), 1);
  assert.equal(nonRepeatReward(undefined), 1);
});
