/**
 * The ViSurf gradient split at the level of the pure functions: with one
 * update per batch (ρ = 1, logp = oldLogp) and seq-mean-token-mean over the
 * G+1 members, dLoss/dlogp is
 *   −(Â_j/(G+1)) · (1/|o_j|)  on rollout o_j's tokens  (the RLVR term / (G+1)),
 *   −(Â_y/(G+1)) · (1/|y|)    on the label's tokens    (Â_y · ∇L_SFT(y) / (G+1)).
 * The full-model version of this identity is tested with the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyLoss, sftLoss, visurfAdvantages } from '../../src/algorithms/index.js';
import { assertAllClose, assertClose, seededRandom } from './approx.js';

test('ViSurf gradient = RLVR-term gradient + Â_y-weighted label-NLL gradient, each / (G+1)', () => {
  const G = 3;
  const rolloutLengths = [2, 4, 3];
  const labelLength = 5;
  // All-fail-ish group: rewards [0, 1, 2], label 3 → no smoothing, Â_y ≈ 1.1619 > 0.
  const { rolloutAdvantages, labelAdvantages } = visurfAdvantages([0, 1, 2], [3], G);
  const labelAdvantage = labelAdvantages[0]!;
  assert.ok(labelAdvantage > 1);

  const random = seededRandom(11);
  const total = rolloutLengths.reduce((a, b) => a + b, 0) + labelLength;
  const logp = Array.from({ length: total }, () => -3 * random());
  const union = policyLoss({
    logp,
    oldLogp: logp,
    advantages: [...rolloutAdvantages, labelAdvantage],
    seqLengths: [...rolloutLengths, labelLength],
  });

  // Rollout tokens: −Â_j / ((G+1)·|o_j|).
  let start = 0;
  rolloutLengths.forEach((length, j) => {
    const expected = -rolloutAdvantages[j]! / ((G + 1) * length);
    assertAllClose(
      union.dLossDLogp.subarray(start, start + length),
      Array(length).fill(expected),
      1e-15,
    );
    start += length;
  });
  // …which is the plain GRPO loss gradient over the G rollouts, rescaled by G/(G+1).
  const rlvr = policyLoss({
    logp: logp.slice(0, start),
    oldLogp: logp.slice(0, start),
    advantages: rolloutAdvantages,
    seqLengths: rolloutLengths,
  });
  assertAllClose(
    union.dLossDLogp.subarray(0, start),
    rlvr.dLossDLogp.map((g) => (g * G) / (G + 1)),
    1e-15,
  );

  // Label tokens: −Â_y / ((G+1)·|y|) = (Â_y/(G+1)) · ∇ token-mean NLL of the label.
  const labelGradient = union.dLossDLogp.subarray(start);
  assertAllClose(
    labelGradient,
    Array(labelLength).fill(-labelAdvantage / ((G + 1) * labelLength)),
    1e-15,
  );
  const sft = sftLoss({ logp: logp.slice(start), seqLengths: [labelLength] });
  assertAllClose(
    labelGradient,
    sft.dLossDLogp.map((g) => (labelAdvantage * g) / (G + 1)),
    1e-15,
  );

  // At ρ = 1 the loss is −mean over members of Â, ≈ 0 because the union's advantages sum to 0.
  assertClose(union.loss, 0, 1e-12);
  assert.equal(union.clipFraction, 0);
});

test('when every rollout fails the label term dominates; when smoothing fires it vanishes', () => {
  const G = 4;
  const lengths = [3, 3, 3, 3, 3];
  const logp = Array(15).fill(-1);
  const gradientNorms = (rollouts: number[], label: number) => {
    const { rolloutAdvantages, labelAdvantages } = visurfAdvantages(rollouts, [label], G);
    const { dLossDLogp } = policyLoss({
      logp,
      oldLogp: logp,
      advantages: [...rolloutAdvantages, labelAdvantages[0]!],
      seqLengths: lengths,
    });
    const norm = (g: Float64Array) => Math.hypot(...g);
    return { rlvr: norm(dLossDLogp.subarray(0, 12)), label: norm(dLossDLogp.subarray(12)) };
  };
  // All fail: U = [0,0,0,0|3] → Â_y = 2.4/√1.8 ≈ 1.789 vs each Â_j ≈ −.447: label term > RLVR term.
  const failing = gradientNorms([0, 0, 0, 0], 3);
  assert.ok(failing.label > failing.rlvr);
  // A rollout solves it: smoothing sets r(y) = mean, Â_y = 0, only the RLVR term remains.
  const solved = gradientNorms([3, 0, 1, 0], 3);
  assert.equal(solved.label, 0);
  assert.ok(solved.rlvr > 0);
});
