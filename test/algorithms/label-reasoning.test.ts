/** The label's reasoning: none, the teacher's trace, or the group's best rollout's (borrowed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { borrowedReasoning, labelResponse } from '../../src/algorithms/index.js';

const group = [
  { text: '<think>first</think><answer>[]</answer>', reward: 2 },
  { text: 'no think block at all', reward: 9 },
  { text: '<think>best</think><answer>[1]</answer>', reward: 5 },
  { text: '<think>tied with best</think><answer>[2]</answer>', reward: 5 },
  { text: '<think>never closed <answer>x</answer>', reward: 7 },
];

test('borrowed reasoning: the highest-reward rollout that closes a think block (first on ties)', () => {
  assert.equal(borrowedReasoning(group), 'best');
  assert.equal(borrowedReasoning(group.slice(1, 2)), null);
  assert.equal(borrowedReasoning([]), null);
});

test('label responses under each reasoning setting; only borrowed reasoning is context', () => {
  const teacher = 'the red circle is left';
  assert.deepEqual(labelResponse('[3]', 'none', { teacher, group }), {
    text: '<answer>[3]</answer>',
    context: '',
  });
  assert.deepEqual(labelResponse('[3]', 'teacher', { teacher, group }), {
    text: '<think>the red circle is left</think><answer>[3]</answer>',
    context: '',
  });
  assert.deepEqual(labelResponse('[3]', 'borrowed', { teacher, group }), {
    text: '<think>best</think><answer>[3]</answer>',
    context: '<think>best</think>',
  });
  // nothing to borrow, or no teacher trace: the answer alone
  assert.deepEqual(labelResponse('[3]', 'borrowed', { teacher, group: group.slice(1, 2) }), {
    text: '<answer>[3]</answer>',
    context: '',
  });
  assert.equal(labelResponse('[3]', 'teacher', { teacher: null }).text, '<answer>[3]</answer>');
});
