/**
 * Worked examples of ViSurf's label injection: the label is member G+1 and
 * advantages are normalised over the union U = {r(y)} ∪ {r(o_j)}.
 * Sample std (n−1) and ε = 1e-6 as in verl unless stated; ε = 0 where the
 * hand-computed numbers are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectLabelAdvantages, visurfAdvantages } from '../../src/algorithms/index.js';
import { assertAllClose, assertClose } from './approx.js';

test('all rollouts fail: Â_y is large and positive, rollouts negative', () => {
  // U = [0, 0, 0 | 3]: mean 0.75; deviations −.75 ×3, 2.25;
  // sample var = (3·0.5625 + 5.0625)/3 = 6.75/3 = 2.25 → std 1.5;
  // Â_j = −0.75/1.5 = −0.5, Â_y = 2.25/1.5 = 1.5.
  const result = visurfAdvantages([0, 0, 0], [3], 3, { eps: 0 });
  assert.deepEqual(result.smoothed, [false], 'max r(o) = 0 < 3: smoothing does not fire');
  assertAllClose(result.rolloutAdvantages, [-0.5, -0.5, -0.5], 1e-15);
  assertAllClose(result.labelAdvantages, [1.5], 1e-15);
  assert.deepEqual(result.groups, [{ mean: 0.75, std: 1.5, zeroVariance: false }]);
  // With verl's ε = 1e-6: 1.5 → 2.25/(1.5 + 1e-6).
  assertClose(visurfAdvantages([0, 0, 0], [3], 3).labelAdvantages[0]!, 2.25 / 1.500001, 1e-12);
});

test('all rollouts succeed, smoothing on: r(y) ← mean r(o) and Â_y = 0 exactly', () => {
  // max(2, 3, 3) = 3 ≥ r(y) = 3 → r(y) ← 8/3; U = [2, 3, 3, 8/3], mean 8/3.
  // Deviations −2/3, 1/3, 1/3, 0; sample var = (4/9 + 1/9 + 1/9)/3 = 2/9 → std √2/3 = .4714;
  // Â = [−√2, 1/√2, 1/√2, 0] (ε = 0).
  const result = visurfAdvantages([2, 3, 3], [3], 3, { eps: 0 });
  assert.deepEqual(result.smoothed, [true]);
  assert.equal(result.labelRewardsBefore[0], 3);
  assert.equal(result.labelRewardsAfter[0], 8 / 3);
  assert.equal(result.labelAdvantages[0], 0);
  assertAllClose(result.rolloutAdvantages, [-Math.SQRT2, Math.SQRT1_2, Math.SQRT1_2], 1e-12);
  // Rollouts keep the advantages plain GRPO would give them up to the std change: same signs.
});

test('all rollouts succeed, smoothing off: the label is just one more success', () => {
  // U = [2, 3, 3, 3]: mean 2.75, deviations −.75, .25 ×3; var = (.5625 + 3·.0625)/3 = .25 → std .5.
  const result = visurfAdvantages([2, 3, 3], [3], 3, { eps: 0, smooth: false });
  assert.deepEqual(result.smoothed, [false]);
  assertAllClose(result.rolloutAdvantages, [-1.5, 0.5, 0.5], 1e-15);
  assertAllClose(result.labelAdvantages, [0.5], 1e-15);
});

test('mixed group, label better than every rollout: no smoothing', () => {
  // U = [0, 1, 2 | 3]: mean 1.5; var = (2.25 + .25 + .25 + 2.25)/3 = 5/3 → std 1.2909944.
  // Â = [−1.161895, −0.387298, 0.387298 | 1.161895].
  const result = visurfAdvantages([0, 1, 2], [3], 3, { eps: 0 });
  const s = Math.sqrt(5 / 3);
  assertAllClose(result.rolloutAdvantages, [-1.5 / s, -0.5 / s, 0.5 / s], 1e-15);
  assertClose(result.labelAdvantages[0]!, 1.161895, 1e-6);
  assert.deepEqual(result.smoothed, [false]);
});

test('mixed group where one rollout matches the label: smoothing fires', () => {
  // rewards [1,0,0,1], label 1 → max 1 ≥ 1 → r(y) ← .5; U = [1,0,0,1,.5], mean .5,
  // var = (4·.25 + 0)/4 = .25 → std .5; Â = [1, −1, −1, 1 | 0].
  const result = visurfAdvantages([1, 0, 0, 1], [1], 4, { eps: 0 });
  assert.deepEqual(result.smoothed, [true]);
  assertAllClose(result.rolloutAdvantages, [1, -1, -1, 1], 1e-15);
  assert.equal(result.labelAdvantages[0], 0);
  // Without smoothing: U = [1,0,0,1,1], mean .6, var (3·.16 + 2·.36)/4 = .3.
  const raw = visurfAdvantages([1, 0, 0, 1], [1], 4, { eps: 0, smooth: false });
  assertClose(raw.labelAdvantages[0]!, 0.4 / Math.sqrt(0.3), 1e-15);
  assertClose(raw.rolloutAdvantages[1]!, -0.6 / Math.sqrt(0.3), 1e-15);
});

test('zero-variance union: all advantages exactly 0 and flagged', () => {
  // rollouts [1,1,1], label 1: smoothing fires (1 ≥ 1) and sets r(y) = 1; U constant.
  const result = visurfAdvantages([1, 1, 1], [1], 3);
  assert.deepEqual([...result.rolloutAdvantages, ...result.labelAdvantages], [0, 0, 0, 0]);
  assert.deepEqual(result.groups, [{ mean: 1, std: 0, zeroVariance: true }]);
  // A constant union without smoothing is zero too.
  const plain = injectLabelAdvantages([2, 2], [2], 2);
  assert.equal(plain.groups[0]!.zeroVariance, true);
  assert.equal(plain.labelAdvantages[0], 0);
});

test('G = 1: the union has two members', () => {
  // U = [0 | 2]: mean 1, sample std √2 → Â = ∓1/√2.
  const result = visurfAdvantages([0], [2], 1, { eps: 0 });
  assertAllClose(result.rolloutAdvantages, [-Math.SQRT1_2], 1e-15);
  assertAllClose(result.labelAdvantages, [Math.SQRT1_2], 1e-15);
  // With the rollout as good as the label, smoothing gives r(y) = r(o) and a constant union.
  const solved = visurfAdvantages([2], [2], 1);
  assert.deepEqual(solved.smoothed, [true]);
  assert.equal(solved.labelAdvantages[0], 0);
  assert.equal(solved.groups[0]!.zeroVariance, true);
});

test('several groups are independent and laid out group by group', () => {
  const result = visurfAdvantages([0, 0, 0, 2, 3, 3], [3, 3], 3, { eps: 0 });
  assertAllClose(
    result.rolloutAdvantages,
    [-0.5, -0.5, -0.5, -Math.SQRT2, Math.SQRT1_2, Math.SQRT1_2],
    1e-12,
  );
  assertAllClose(result.labelAdvantages, [1.5, 0], 1e-12);
  assert.deepEqual(result.smoothed, [false, true]);
  assert.throws(() => injectLabelAdvantages([0, 0, 0], [1, 1], 2), RangeError);
});

test('population std and Dr.GRPO options pass through', () => {
  // U = [0,0,0|3]: population var = 6.75/4 = 1.6875; Dr.GRPO Â_y = 3 − .75 = 2.25.
  const population = injectLabelAdvantages([0, 0, 0], [3], 3, { std: 'population', eps: 0 });
  assertClose(population.labelAdvantages[0]!, 2.25 / Math.sqrt(1.6875), 1e-15);
  const drGrpo = injectLabelAdvantages([0, 0, 0], [3], 3, { scaleByStd: false });
  assertAllClose(
    [...drGrpo.rolloutAdvantages, ...drGrpo.labelAdvantages],
    [-0.75, -0.75, -0.75, 2.25],
    0,
  );
});
