/** Worked numbers for the one-stage peers' rules: CHORD's μ schedule and LUFFY's policy shaping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chordMu, shapedPolicyLoss } from '../../src/algorithms/index.js';

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('CHORD μ: linear warm-up to the peak, cosine decay to the valley, then flat', () => {
  const s = { peak: 0.5, valley: 0.02, warmupSteps: 2, decaySteps: 4 };
  close(chordMu(0, s), 0.25); // warm-up: 0.5 · 1/2
  close(chordMu(1, s), 0.5); // end of warm-up: the peak
  close(chordMu(2, s), 0.5); // decay starts at the peak (t = 0)
  close(chordMu(4, s), 0.02 + 0.5 * 0.48 * (1 + Math.cos(Math.PI / 2))); // t = 1/2: 0.26
  close(chordMu(4, s), 0.26);
  close(chordMu(6, s), 0.02); // t = 1: the valley
  close(chordMu(60, s), 0.02);
  // no warm-up: starts at the peak
  close(chordMu(0, { ...s, warmupSteps: 0 }), 0.5);
});

test('LUFFY shaping: loss −A·p/(p+γ), gradient −A·γp/(p+γ)², unclipped; matches finite differences', () => {
  const logp = [Math.log(0.5), Math.log(0.01), Math.log(0.99)];
  const r = shapedPolicyLoss(
    { logp, advantages: [2], seqLengths: [3] },
    { gamma: 0.1, aggregation: 'token-mean' },
  );
  // p = 0.5: f = 0.5/0.6, l = −2·0.8333 = −1.6667; dl/dlogp = −2·0.1·0.5/0.36 = −0.27778
  const f = (p: number) => p / (p + 0.1);
  const expected = (-2 * (f(0.5) + f(0.01) + f(0.99))) / 3;
  close(r.loss, expected);
  close(r.dLossDLogp[0]!, (-2 * 0.1 * 0.5) / 0.36 / 3);
  // against a plain ratio, whose gradient is −A·p/3 per token: the unlikely token (p = 0.01)
  // gets 8.3× more, the likely one (p = 0.99) 12× less
  const plain = (p: number) => (-2 * p) / 3;
  close(r.dLossDLogp[1]! / plain(0.01), 0.1 / 0.11 ** 2, 1e-9);
  close(r.dLossDLogp[2]! / plain(0.99), 0.1 / 1.09 ** 2, 1e-9);
  // a ratio far above 1 + ε would be clipped by PPO; shaping never zeroes the gradient
  assert.equal(r.clipFraction, 0);
  for (let t = 0; t < 3; t++) {
    const h = 1e-6;
    const at = (d: number) =>
      shapedPolicyLoss(
        { logp: logp.map((v, k) => (k === t ? v + d : v)), advantages: [2], seqLengths: [3] },
        { gamma: 0.1, aggregation: 'token-mean' },
      ).loss;
    close(r.dLossDLogp[t]!, (at(h) - at(-h)) / (2 * h), 1e-8);
  }
});
