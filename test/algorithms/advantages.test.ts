/**
 * Worked examples of group-normalised advantages, checked against verl's
 * GRPO definition (`compute_grpo_outcome_advantage`):
 *   scores = (scores − mean) / (std + ε), std = torch.std (unbiased), ε = 1e-6.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  groupNormalizedAdvantages,
  groupStats,
  refinedMean,
  normaliseGroup,
} from '../../src/algorithms/index.js';
import { assertAllClose, assertClose } from './approx.js';

test('verl GRPO: rewards [1,0,0,1] → mean .5, sample std .57735, advantages ±0.866', () => {
  // mean = 2/4 = 0.5; squared deviations 4 × 0.25 = 1; sample var = 1/3;
  // std = √(1/3) = 0.5773502692; Â = ±0.5 / (0.5773502692 + 1e-6) = ±0.8660239...
  const { advantages, stats } = groupNormalizedAdvantages([1, 0, 0, 1], { groupSize: 4 });
  assertClose(stats[0]!.mean, 0.5);
  assertClose(stats[0]!.std, Math.sqrt(1 / 3));
  const a = 0.5 / (Math.sqrt(1 / 3) + 1e-6);
  assertClose(a, 0.8660239, 1e-7);
  assertAllClose(advantages, [a, -a, -a, a], 1e-12);
});

test('population std divides by n: [1,0,0,1] → std .5, advantages ±1 (minus ε)', () => {
  const { advantages, stats } = groupNormalizedAdvantages(
    [1, 0, 0, 1],
    { groupSize: 4 },
    { std: 'population' },
  );
  assertClose(stats[0]!.std, 0.5);
  const a = 0.5 / (0.5 + 1e-6);
  assertAllClose(advantages, [a, -a, -a, a], 1e-12);
});

test('Dr.GRPO subtracts the mean only: [3,1,0,0] → [2,0,−1,−1]', () => {
  const { advantages } = groupNormalizedAdvantages(
    [3, 1, 0, 0],
    { groupSize: 4 },
    { scaleByStd: false },
  );
  assertAllClose(advantages, [2, 0, -1, -1], 0);
});

test('eps is configurable: eps = 0 gives the exact z-score', () => {
  // [2, 0]: mean 1, sample std √2, Â = ±1/√2.
  const { advantages } = normaliseGroup([2, 0], { eps: 0 });
  assertAllClose(advantages, [Math.SQRT1_2, -Math.SQRT1_2], 1e-15);
});

test('zero-variance group → exactly zero advantages (no 0/ε noise)', () => {
  // 0.1+0.2 is not 0.3 in binary; three equal non-dyadic rewards still give exact zeros.
  for (const r of [0, 1, 0.1 + 0.2, 2.7]) {
    const { advantages, stats } = groupNormalizedAdvantages([r, r, r], { groupSize: 3 });
    assert.deepEqual([...advantages], [0, 0, 0]);
    assert.equal(stats[0]!.zeroVariance, true);
    assert.equal(stats[0]!.std, 0);
  }
});

test('G = 1 → advantage 0 (defined: a single sample has no baseline; verl would give r/(1+ε))', () => {
  const { advantages, stats } = groupNormalizedAdvantages([3, 0, 1.5], { groupSize: 1 });
  assert.deepEqual([...advantages], [0, 0, 0]);
  assert.ok(stats.every((s) => s.zeroVariance && s.size === 1 && s.std === 0));
});

test('several groups by size keep their order', () => {
  // group A [1,0]: mean .5, std √.5 → ±.7071; group B [2,2]: zero variance.
  const { advantages, stats } = groupNormalizedAdvantages(
    [1, 0, 2, 2],
    { groupSize: 2 },
    { eps: 0 },
  );
  assertAllClose(advantages, [Math.SQRT1_2, -Math.SQRT1_2, 0, 0], 1e-15);
  assert.deepEqual(
    stats.map((s) => s.zeroVariance),
    [false, true],
  );
});

test('groups by id may be interleaved', () => {
  const ids = ['p', 'q', 'p', 'q'];
  const byId = groupNormalizedAdvantages([1, 5, 0, 5], { groupIds: ids }, { eps: 0 });
  assertAllClose(byId.advantages, [Math.SQRT1_2, 0, -Math.SQRT1_2, 0], 1e-15);
  assert.equal(byId.stats.length, 2);
});

test('layout errors are reported', () => {
  assert.throws(() => groupNormalizedAdvantages([1, 2, 3], { groupSize: 2 }), RangeError);
  assert.throws(() => groupNormalizedAdvantages([1, 2], { groupSize: 0 }), RangeError);
  assert.throws(() => groupNormalizedAdvantages([1, 2], { groupIds: [0] }), RangeError);
});

test('mean is refined: mean of [8/3, 2, 3, 3] is exactly 8/3', () => {
  assert.equal(refinedMean([8 / 3, 2, 3, 3]), refinedMean([2, 3, 3]));
  assert.equal(groupStats([]).size, 0);
});
