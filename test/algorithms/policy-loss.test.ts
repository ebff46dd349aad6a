/**
 * Worked examples of the clipped surrogate (verl `compute_policy_loss`,
 * vanilla), loss aggregation (verl `agg_loss`), the SFT loss, KL penalties
 * (verl `kl_penalty`) and entropy; every gradient checked by finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregateEntropy,
  aggregateTokens,
  aggregationWeights,
  entropyFromLogits,
  klLoss,
  klPenalty,
  policyLoss,
  sftLoss,
  tokenAdvantages,
  type LossAggregation,
  type PolicyLossInput,
} from '../../src/algorithms/index.js';
import { assertAllClose, assertClose, seededRandom } from './approx.js';

const MODES: LossAggregation[] = [
  'token-mean',
  'seq-mean-token-mean',
  'seq-mean-token-sum',
  'seq-mean-token-sum-norm',
];

test('clipped surrogate agrees with verl on four hand-computed tokens', () => {
  // One sequence of 4 tokens, ε_low = ε_high = 0.2 (verl clip_ratio_low/high).
  // token  A    ρ     −Aρ    −A·clip(ρ)   max      branch     dl/dlogp
  //  t0   +1   1.5   −1.5   −1.2         −1.2     clipped     0
  //  t1   +1   0.5   −0.5   −0.8         −0.5     unclipped   −Aρ = −0.5
  //  t2   −1   0.5   +0.5   +0.8         +0.8     clipped     0
  //  t3   −1   1.5   +1.5   +1.2         +1.5     unclipped   −Aρ = +1.5
  // loss = mean(−1.2, −0.5, 0.8, 1.5) = 0.6/4 = 0.15; clipfrac = 2/4;
  // ppo_kl = mean(old − new) = −(2 ln 1.5 + 2 ln 0.5)/4 = −ln(0.75)/2 = 0.1438410.
  const ratios = [1.5, 0.5, 0.5, 1.5];
  const input: PolicyLossInput = {
    logp: ratios.map((r) => Math.log(r) - 1),
    oldLogp: [-1, -1, -1, -1],
    advantages: [1, 1, -1, -1],
    seqLengths: [4],
  };
  const result = policyLoss(input);
  assertClose(result.loss, 0.15, 1e-12);
  assert.equal(result.clipFraction, 0.5);
  assertClose(result.approxKl, -Math.log(0.75) / 2, 1e-12);
  assertAllClose(result.dLossDLogp, [0, -0.5 / 4, 0, 1.5 / 4], 1e-12);
  // Clip-higher (DAPO): ε_high = 0.28 moves t0's clipped value to −1.28 → loss (−1.28−.5+.8+1.5)/4 = 0.13.
  assertClose(policyLoss(input, { clipHigh: 0.28 }).loss, 0.13, 1e-12);
  // ε_low = 0.6 lets t2 (ρ = .5 ≥ 0.4) through unclipped: its loss 0.5, gradient −Aρ/4 = 0.125.
  const wide = policyLoss(input, { clipLow: 0.6 });
  assertClose(wide.loss, (-1.2 - 0.5 + 0.5 + 1.5) / 4, 1e-12);
  assertAllClose(wide.dLossDLogp, [0, -0.125, 0.125, 0.375], 1e-12);
});

test('GRPO example end to end: rewards [1,0,0,1] with ρ = 1 give loss −mean(Â) = 0', () => {
  // Â = ±0.8660 (see advantages.test.ts); ρ = 1 → per-token loss −Â, and Σ Â = 0.
  const a = 0.5 / (Math.sqrt(1 / 3) + 1e-6);
  const result = policyLoss({
    logp: [-1, -2, -1, -2, -3, -1, -1],
    oldLogp: [-1, -2, -1, -2, -3, -1, -1],
    advantages: [a, -a, -a, a],
    seqLengths: [2, 2, 1, 2],
  });
  assertClose(result.loss, 0, 1e-15);
  assert.equal(result.clipFraction, 0);
  assert.equal(result.approxKl, 0);
  // dL/dlogp = −Â_s / (S · |o_s|) with S = 4.
  assertAllClose(result.dLossDLogp, [-a / 8, -a / 8, a / 8, a / 8, a / 4, -a / 8, -a / 8], 1e-15);
});

test('aggregation modes on sequences of different lengths', () => {
  // Two sequences, lengths 1 and 3, per-token values [4 | 1, 2, 3].
  const layout = { seqLengths: [1, 3] };
  const values = [4, 1, 2, 3];
  assertClose(aggregateTokens(values, layout, { aggregation: 'token-mean' }), 10 / 4); // 2.5
  assertClose(
    aggregateTokens(values, layout, { aggregation: 'seq-mean-token-mean' }),
    (4 + 6 / 3) / 2,
  ); // 3
  assertClose(aggregateTokens(values, layout, { aggregation: 'seq-mean-token-sum' }), (4 + 6) / 2); // 5
  // Dr.GRPO: token sums divided by L (default: the longest sequence, 3), mean over sequences.
  assertClose(
    aggregateTokens(values, layout, { aggregation: 'seq-mean-token-sum-norm' }),
    (4 / 3 + 6 / 3) / 2,
  );
  assertClose(
    aggregateTokens(values, layout, { aggregation: 'seq-mean-token-sum-norm', normLength: 4 }),
    1.25,
  );
  // A mask drops the third token: token-mean 8/3; per sequence (4 + (1+3)/2)/2 = 3.
  const masked = { seqLengths: [1, 3], mask: [1, 1, 0, 1] };
  assertClose(aggregateTokens(values, masked, { aggregation: 'token-mean' }), 8 / 3);
  assertClose(aggregateTokens(values, masked, { aggregation: 'seq-mean-token-mean' }), 3);
  // Default is GRPO's seq-mean-token-mean; an all-masked sequence contributes 0 but counts in S.
  assertClose(aggregateTokens(values, layout), 3);
  assertClose(aggregateTokens(values, { seqLengths: [1, 3], mask: [0, 1, 1, 1] }), (0 + 2) / 2);
  assert.throws(() => aggregationWeights({ seqLengths: [2], mask: [1] }), RangeError);
});

test('policy-loss gradient equals finite differences of the loss in every aggregation mode', () => {
  const random = seededRandom(7);
  const seqLengths = [3, 1, 5, 2];
  const total = 11;
  const oldLogp = Array.from({ length: total }, () => -0.2 - 2 * random());
  // Log-ratios either well inside (|δ| < .1) or well outside (|δ| > .4) the clip range, away from kinks.
  const logp = oldLogp.map(
    (o, t) =>
      o + (t % 3 === 0 ? 0.4 + 0.3 * random() : 0.1 * (2 * random() - 1)) * (t % 2 ? -1 : 1),
  );
  const advantages = [1.3, -0.7, 0.4, -2.1];
  const mask = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1];
  for (const aggregation of MODES) {
    const base = { oldLogp, advantages, seqLengths, mask };
    const { dLossDLogp, clipFraction } = policyLoss({ ...base, logp }, { aggregation });
    assert.ok(clipFraction > 0 && clipFraction < 1, 'both branches are exercised');
    const h = 1e-6;
    for (let t = 0; t < total; t++) {
      const up = logp.slice();
      const down = logp.slice();
      up[t]! += h;
      down[t]! -= h;
      const numeric =
        (policyLoss({ ...base, logp: up }, { aggregation }).loss -
          policyLoss({ ...base, logp: down }, { aggregation }).loss) /
        (2 * h);
      assertClose(dLossDLogp[t]!, numeric, 1e-8, `${aggregation} token ${t}`);
    }
    assert.equal(dLossDLogp[5], 0, 'masked token has no gradient');
  }
});

test('per-sequence advantages broadcast to tokens; wrong lengths are rejected', () => {
  assertAllClose(tokenAdvantages([2, -1], { seqLengths: [1, 3] }), [2, -1, -1, -1], 0);
  assertAllClose(tokenAdvantages([1, 2, 3, 4], { seqLengths: [1, 3] }), [1, 2, 3, 4], 0);
  assert.throws(() => tokenAdvantages([1, 2, 3], { seqLengths: [1, 3] }), RangeError);
  assert.throws(
    () => policyLoss({ logp: [0], oldLogp: [0, 0], advantages: [1], seqLengths: [1] }),
    RangeError,
  );
});

test('padding junk under the mask does not leak NaN into loss or gradient', () => {
  const result = policyLoss({
    logp: [-1, NaN],
    oldLogp: [-1, NaN],
    advantages: [1, NaN],
    seqLengths: [2],
    mask: [1, 0],
  });
  assert.equal(result.loss, -1);
  assert.deepEqual([...result.dLossDLogp], [-1, 0]);
  assert.equal(result.clipFraction, 0);
});

test('SFT loss is the token-mean NLL of the label with gradient −1/|y| per token', () => {
  // logp = [−1, −2, −3] → NLL mean 2; dL/dlogp = −1/3 each.
  const result = sftLoss({ logp: [-1, -2, -3], seqLengths: [3] });
  assertClose(result.loss, 2, 1e-15);
  assertAllClose(result.dLossDLogp, [-1 / 3, -1 / 3, -1 / 3], 1e-15);
  assert.equal(result.clipFraction, 0);
  assert.equal(result.approxKl, 0);
  // Two labels of lengths 1 and 2, token-mean over the batch: (1 + 2 + 3)/3 = 2;
  // per-sequence: (1 + 2.5)/2 = 1.75.
  assertClose(sftLoss({ logp: [-1, -2, -3], seqLengths: [1, 2] }).loss, 2, 1e-15);
  assertClose(
    sftLoss({ logp: [-1, -2, -3], seqLengths: [1, 2] }, { aggregation: 'seq-mean-token-mean' })
      .loss,
    1.75,
    1e-15,
  );
});

test('KL penalties k1 and k3 (low_var_kl) with hand values, clamps and gradients', () => {
  // logp −1, ref −2: k1 = 1; δ = ref − logp = −1 → k3 = e^−1 + 1 − 1 = 0.3678794; dk3/dlogp = 1 − e^−1.
  const k1 = klPenalty([-1], [-2], 'k1');
  assert.deepEqual([...k1.kl, ...k1.dKlDLogp], [1, 1]);
  const k3 = klPenalty([-1, -2, -20], [-2, -2, 0], 'k3');
  assertClose(k3.kl[0]!, Math.exp(-1), 1e-15);
  assertClose(k3.dKlDLogp[0]!, 1 - Math.exp(-1), 1e-15);
  assert.equal(k3.kl[1], 0, 'equal policies: no divergence');
  assert.equal(k3.dKlDLogp[1], 0);
  // δ = 20 → e^20 − 21 ≫ 10: clamped to 10 as verl, no gradient through the clamp.
  assert.equal(k3.kl[2], 10);
  assert.equal(k3.dKlDLogp[2], 0);
  // Finite differences of the aggregated KL loss.
  const logp = [-0.5, -1.7, -2.2, -0.1];
  const refLogp = [-0.9, -1.2, -2.0, -0.3];
  for (const kind of ['k1', 'k3'] as const) {
    const layout = { seqLengths: [1, 3] };
    const { dLossDLogp } = klLoss({ logp, refLogp, ...layout }, kind);
    const h = 1e-6;
    logp.forEach((_, t) => {
      const up = logp.map((v, i) => (i === t ? v + h : v));
      const down = logp.map((v, i) => (i === t ? v - h : v));
      const numeric =
        (klLoss({ logp: up, refLogp, ...layout }, kind).loss -
          klLoss({ logp: down, refLogp, ...layout }, kind).loss) /
        (2 * h);
      assertClose(dLossDLogp[t]!, numeric, 1e-8, `${kind} token ${t}`);
    });
  }
});

test('entropy from logits and its aggregation', () => {
  // Uniform over 4 → ln 4; p = [.5, .25, .25] → .5 ln 2 + 2·.25 ln 4 = 1.5 ln 2; a forbidden token (−∞) adds nothing.
  const entropy = entropyFromLogits(
    [
      0,
      0,
      0,
      0,
      Math.log(0.5) + 7,
      Math.log(0.25) + 7,
      Math.log(0.25) + 7,
      -Infinity,
      5,
      -Infinity,
      -Infinity,
      -Infinity,
    ],
    4,
  );
  assertAllClose(entropy, [Math.log(4), 1.5 * Math.LN2, 0], 1e-12);
  assertClose(
    aggregateEntropy(entropy, { seqLengths: [1, 2] }),
    (Math.log(4) + 1.5 * Math.LN2) / 3,
    1e-12,
  );
  assert.throws(() => entropyFromLogits([0, 0, 0], 2), RangeError);
});
