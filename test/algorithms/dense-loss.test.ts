/** The dense vision loss: a worked example, the gradient against finite differences, edge cases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denseLoss, type DenseLossResult, type DenseTargets } from '../../src/algorithms/index.js';

const classes = { colours: 2, shapes: 2 };

/** Central differences of the loss against the analytic gradient, at every output. */
function checkGradient(
  out: Float32Array,
  f: (o: Float32Array) => DenseLossResult,
): DenseLossResult {
  const r = f(out);
  const h = 1e-3;
  for (let i = 0; i < out.length; i++) {
    const p = out.slice();
    p[i]! += h;
    const m = out.slice();
    m[i]! -= h;
    const num = (f(p).loss - f(m).loss) / (2 * h);
    assert.ok(
      Math.abs(num - r.grad[i]!) < 2e-3,
      `output ${i}: analytic ${r.grad[i]}, numeric ${num}`,
    );
  }
  return r;
}

test('worked example: two cells, one object', () => {
  // cell 0: an object of colour 1, shape 0, box (0.1, 0.2, 0.3, 0.4); cell 1: background
  const out = Float32Array.from([
    0,
    0,
    /* colour */ 0,
    0,
    /* shape */ 0.1,
    0.2,
    0.3,
    0.6 /* box */,
    0,
    0,
    0,
    0,
    9,
    9,
    9,
    9, // background: the box is not a target
  ]);
  const t: DenseTargets = {
    colour: Int32Array.from([1, 1]),
    shape: Int32Array.from([0, 1]),
    box: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0, 0, 0, 0]),
    hasObject: Uint8Array.from([1, 0]),
  };
  const r = denseLoss(out, t, classes, 4);
  // CE of a uniform 2-way softmax is ln 2, for colour and shape, averaged over the 2 cells
  // (ln 2 + ln 2 per cell); box: mean |d| over 4 coordinates = 0.2/4 = 0.05, times weight 4
  assert.ok(Math.abs(r.loss - (2 * Math.LN2 + 4 * 0.05)) < 1e-6, `loss ${r.loss}`);
  assert.ok(Math.abs(r.boxL1 - 0.05) < 1e-7);
  // d CE / d logit = (p - onehot) / cells = (0.5 - 1) / 2 for the target class
  assert.ok(Math.abs(r.grad[1]! - -0.25) < 1e-7);
  assert.ok(Math.abs(r.grad[0]! - 0.25) < 1e-7);
  // box gradient: weight * sign / (object cells * 4) = 4 * 1 / 4 on the one wrong coordinate
  assert.deepEqual(Array.from(r.grad.subarray(4, 8)), [0, 0, 0, 1]);
  assert.deepEqual(Array.from(r.grad.subarray(12, 16)), [0, 0, 0, 0]);
  assert.equal(r.colourAccuracy, 0); // a tie: argmax picks class 0
  assert.equal(r.shapeAccuracy, 1);
});

test('gradient matches finite differences', () => {
  const cells = 5;
  const D = 8;
  const out = Float32Array.from({ length: cells * D }, (_, i) => Math.sin(i * 1.7) * 2);
  const t: DenseTargets = {
    colour: Int32Array.from([0, 1, 1, 0, 1]),
    shape: Int32Array.from([1, 1, 0, 0, 1]),
    box: Float32Array.from({ length: cells * 4 }, (_, i) => (i % 7) / 10),
    hasObject: Uint8Array.from([1, 0, 1, 1, 0]),
  };
  const r = checkGradient(out, (o) => denseLoss(o, t, classes, 2));
});

test('digit heads: gradient matches finite differences; accuracy counts object cells only', () => {
  const cells = 3;
  const H = 2;
  const D = 4 + 4 + 10 * H;
  const out = Float32Array.from({ length: cells * D }, (_, i) => Math.cos(i * 0.9) * 1.5);
  const t: DenseTargets = {
    colour: Int32Array.from([0, 1, 1]),
    shape: Int32Array.from([1, 0, 1]),
    box: Float32Array.from({ length: cells * 4 }, (_, i) => i / 20),
    hasObject: Uint8Array.from([1, 0, 1]),
    digits: Int32Array.from([3, 7, -1, -1, 0, 9]),
  };
  const c = { ...classes, digitHeads: H };
  const r = checkGradient(out, (o) => denseLoss(o, t, c, 2, 0.5));
  // the background cell's digit logits get no gradient
  assert.ok(r.grad.subarray(D + 8, 2 * D).every((g) => g === 0));
  assert.throws(() => denseLoss(out, { ...t, digits: undefined }, c, 2), /2 digit heads need 6/);
});

test('coordinate heads (N-way digit classes): gradient matches finite differences; targets in range', () => {
  const cells = 2;
  const H = 3;
  const N = 5; // e.g. a 5-pixel image: one class per position
  const D = 4 + 4 + N * H;
  const out = Float32Array.from({ length: cells * D }, (_, i) => Math.sin(i * 0.7) * 2);
  const t: DenseTargets = {
    colour: Int32Array.from([0, 1]),
    shape: Int32Array.from([1, 0]),
    box: Float32Array.from({ length: cells * 4 }, (_, i) => i / 10),
    hasObject: Uint8Array.from([1, 1]),
    digits: Int32Array.from([4, 0, 2, 1, 3, 4]),
  };
  const c = { ...classes, digitHeads: H, digitClasses: N };
  checkGradient(out, (o) => denseLoss(o, t, c, 2, 0.5));
  // a perfectly confident right head has accuracy 1 (argmax over all N classes)
  const sharp = out.slice();
  for (let cell = 0; cell < cells; cell++)
    for (let h = 0; h < H; h++) sharp[cell * D + 8 + N * h + t.digits![cell * H + h]!] = 50;
  assert.equal(denseLoss(sharp, t, c, 2).digitAccuracy, 1);
  assert.throws(
    () => denseLoss(out, { ...t, digits: Int32Array.from([4, 0, 5, 1, 3, 4]) }, c, 2),
    /cell 0 digit head 2: target 5 is not in \[0, 5\)/,
  );
});

test('no object cells: box terms and accuracies are 0; a size mismatch is an error', () => {
  const t: DenseTargets = {
    colour: Int32Array.from([1]),
    shape: Int32Array.from([1]),
    box: new Float32Array(4),
    hasObject: new Uint8Array(1),
  };
  const r = denseLoss(new Float32Array(8), t, classes, 4);
  assert.equal(r.boxL1, 0);
  assert.equal(r.colourAccuracy, 0);
  assert.ok(Number.isFinite(r.loss));
  assert.throws(() => denseLoss(new Float32Array(7), t, classes, 4), /7 outputs for 1 cells of 8/);
});
