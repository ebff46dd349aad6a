/** AdamW: a parameter without a gradient buffer steps exactly like one whose buffer is zero. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, Tensor } from '../../src/engine/index.js';

function run(zeroBufferOnSecondStep: boolean): Float32Array {
  const p = Tensor.param(Float32Array.from([1, -2, 3]), [3]);
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.1 });
  p.gradBuffer().set([0.5, -0.25, 1]);
  opt.step();
  // Step 2 has no gradient: after zeroGrad() the buffer holds zeros (an uninterrupted run); a
  // run resumed from a checkpoint has no buffer at all. Momentum must move p the same way.
  const state = opt.state();
  const p2 = Tensor.param(p.data.slice(), [3]);
  const opt2 = new AdamW([p2], { lr: 0.1, weightDecay: 0.1 }, () => true);
  opt2.loadState({ step: state.step, m: state.m, v: state.v });
  if (zeroBufferOnSecondStep) p2.gradBuffer().fill(0);
  else assert.equal(p2.grad, null);
  const r = opt2.step();
  assert.equal(r.skipped, false);
  return p2.data;
}

test('AdamW: no gradient buffer = a zero gradient (momentum and decay still apply)', () => {
  const withZeros = run(true);
  const withNull = run(false);
  assert.deepEqual(Array.from(withNull), Array.from(withZeros));
  // and the step did move the parameter (momentum from step 1)
  assert.notDeepEqual(Array.from(withNull), [1, -2, 3]);
});
