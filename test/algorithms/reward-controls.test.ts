/** The three reward controls as pure functions (alignment itself: label-alignment.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_REWARD_CONTROLS,
  labelResponseText,
  labelRewardComponents,
  rewardControls,
  smoothLabelReward,
  totalReward,
} from '../../src/algorithms/index.js';

test('all three controls are on by default and switch independently', () => {
  assert.deepEqual(
    { ...DEFAULT_REWARD_CONTROLS },
    { align: true, eliminateThinking: true, smooth: true },
  );
  assert.deepEqual(rewardControls({ smooth: false }), {
    align: true,
    eliminateThinking: true,
    smooth: false,
  });
});

test('label text to score: no think block when thinking is eliminated or in NoThink mode', () => {
  const answer = '[{"bbox_2d": [1, 2, 3, 4]}]';
  assert.equal(
    labelResponseText(answer, { eliminateThinking: true }),
    `<answer>${answer}</answer>`,
  );
  assert.equal(
    labelResponseText(answer, { eliminateThinking: false }),
    `<think></think><answer>${answer}</answer>`,
  );
  assert.equal(
    labelResponseText(answer, { eliminateThinking: false, noThink: true }),
    `<answer>${answer}</answer>`,
  );
});

test('eliminating the thinking reward zeroes only the thinkFormat component', () => {
  // A label scored as <think></think><answer>…</answer> by the verifiers: 1 + 2 + 3 = 6.
  const scored = { thinkFormat: 1, answerFormat: 2, accuracy: 3 };
  const eliminated = labelRewardComponents(scored, { eliminateThinking: true });
  assert.deepEqual(eliminated, { thinkFormat: 0, answerFormat: 2, accuracy: 3 });
  assert.equal(totalReward(eliminated), 5);
  assert.deepEqual(labelRewardComponents(scored, { eliminateThinking: false }), scored);
  assert.equal(totalReward(labelRewardComponents(scored, { eliminateThinking: false })), 6);
  assert.deepEqual(scored, { thinkFormat: 1, answerFormat: 2, accuracy: 3 }, 'input not mutated');
  // A custom component name, and a component set without it.
  assert.deepEqual(labelRewardComponents({ fmt: 1, acc: 1 }, { eliminateThinking: true }, 'fmt'), {
    fmt: 0,
    acc: 1,
  });
  assert.deepEqual(labelRewardComponents({ acc: 1 }, { eliminateThinking: true }), { acc: 1 });
});

test('smoothing fires when max rollout reward ≥ label reward and sets r(y) to the rollout mean', () => {
  // max(2, 3, 3) = 3 ≥ 3 → r(y) ← (2+3+3)/3 = 8/3.
  const fired = smoothLabelReward(3, [2, 3, 3]);
  assert.equal(fired.fired, true);
  assert.equal(fired.originalLabelReward, 3);
  assert.equal(fired.labelReward, 8 / 3);
  // A rollout beating the label fires too: max 4 ≥ 3 → mean (0+4)/2 = 2.
  assert.deepEqual(smoothLabelReward(3, [0, 4]), {
    labelReward: 2,
    originalLabelReward: 3,
    fired: true,
  });
});

test('smoothing does not fire when every rollout is below the label, when disabled, or with no rollouts', () => {
  assert.deepEqual(smoothLabelReward(3, [0, 1, 2.999]), {
    labelReward: 3,
    originalLabelReward: 3,
    fired: false,
  });
  assert.deepEqual(smoothLabelReward(3, [3, 3], false), {
    labelReward: 3,
    originalLabelReward: 3,
    fired: false,
  });
  assert.deepEqual(smoothLabelReward(3, []), {
    labelReward: 3,
    originalLabelReward: 3,
    fired: false,
  });
});
