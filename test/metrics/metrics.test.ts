import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  boxesCorrect,
  cIoU,
  evaluateGrounding,
  gIoU,
  maskIoU,
  maskOverlap,
  meanPassAtK,
  nAcc,
  passAtK,
  rocAuc,
  segmentFromPrompt,
} from '../../src/metrics/index.js';
import {
  createImage,
  fillBox,
  generateSamples,
  maskBox,
  referenceResponse,
} from '../../src/tasks/index.js';
import type { Box } from '../../src/rewards/index.js';

test('gIoU and cIoU worked example', () => {
  const per = [
    { intersection: 5, union: 10 },
    { intersection: 0, union: 0 }, // correctly empty
    { intersection: 0, union: 30 },
  ];
  assert.equal(gIoU(per), (0.5 + 1 + 0) / 3);
  assert.equal(cIoU(per), 5 / 40);
  assert.equal(gIoU([]), 0);
  assert.equal(cIoU([{ intersection: 0, union: 0 }]), 1);
});

test('mask IoU: empty/empty is 1, empty/non-empty is 0', () => {
  const a = new Uint8Array([1, 1, 0, 0]),
    b = new Uint8Array([0, 1, 1, 0]);
  assert.equal(maskIoU(a, b), 1 / 3);
  assert.equal(maskIoU(null, null), 1);
  assert.equal(maskIoU(new Uint8Array(4), new Uint8Array(4)), 1);
  assert.equal(maskIoU(a, null), 0);
  assert.deepEqual(maskOverlap(a, a), { intersection: 2, union: 2 });
});

test('accuracy and N-Acc', () => {
  assert.equal(accuracy([true, false, true, true]), 0.75);
  assert.equal(accuracy([]), 0);
  assert.equal(nAcc([true, true, false], [true, false, true]), 0.5);
  assert.equal(nAcc([false], [true]), null);
});

test('ROC AUC: worked examples, ties, and agreement with the pairwise definition', () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(rocAuc([1, 1], [true, false]), 0.5);
  assert.equal(rocAuc([1, 2, 3], [false, true, true]), 1);
  assert.equal(rocAuc([3, 2, 1], [false, true, true]), 0);
  assert.equal(rocAuc([1, 2], [true, true]), null);
  let seed = 5;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let t = 0; t < 200; t++) {
    const n = 2 + Math.floor(rnd() * 30);
    const s = Array.from({ length: n }, () => Math.floor(rnd() * 5));
    const l = Array.from({ length: n }, () => rnd() < 0.5);
    let num = 0,
      den = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (l[i] && !l[j]) {
          den++;
          num += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
        }
    const auc = rocAuc(s, l);
    if (den === 0) assert.equal(auc, null);
    else assert.ok(Math.abs(auc! - num / den) < 1e-12);
  }
});

test('pass@k: unbiased estimator, stable for large n', () => {
  assert.equal(passAtK(10, 0, 1), 0);
  assert.equal(passAtK(10, 10, 5), 1);
  assert.ok(Math.abs(passAtK(10, 3, 1) - 0.3) < 1e-12);
  // 1 - C(7,2)/C(10,2) = 1 - 21/45
  assert.ok(Math.abs(passAtK(10, 3, 2) - (1 - 21 / 45)) < 1e-12);
  assert.equal(passAtK(5, 3, 3), 1, 'n - c < k');
  const big = passAtK(10000, 1, 100);
  assert.ok(Math.abs(big - 0.01) < 1e-12, `${big}`);
  assert.ok(Number.isFinite(passAtK(100000, 50000, 1000)));
  assert.throws(() => passAtK(3, 1, 4), RangeError);
  assert.equal(
    meanPassAtK(
      [
        { n: 4, c: 4 },
        { n: 4, c: 0 },
      ],
      2,
    ),
    0.5,
  );
});

test('segmenter: flood fills the prompted region inside the box only', () => {
  const img = createImage(10, 10, [0, 0, 0]);
  fillBox(img, [2, 2, 7, 7], [200, 0, 0]);
  const full = segmentFromPrompt(img, [0, 0, 9, 9], [4, 4]);
  assert.deepEqual(maskBox(full, 10), [2, 2, 7, 7]);
  const clipped = segmentFromPrompt(img, [0, 0, 4, 9], [3, 3]);
  assert.deepEqual(maskBox(clipped, 10), [2, 2, 4, 7]);
  // A point outside its box is moved into the box.
  const moved = segmentFromPrompt(img, [3, 3, 6, 6], [0, 0]);
  assert.deepEqual(maskBox(moved, 10), [3, 3, 6, 6]);
  assert.equal(
    maskBox(segmentFromPrompt(img, [7, 7, 2, 2], [4, 4]), 10),
    null,
    'x2 < x1 gives an empty mask',
  );
  assert.equal(maskBox(segmentFromPrompt(img, [0, 0, NaN, 9], [4, 4]), 10), null);
  assert.ok(maskBox(segmentFromPrompt(img, [-100, -100, 1e9, 1e9], [1e9, -5]), 10) !== null);
});

test('segmenter recovers generated ground-truth masks from their boxes and points', () => {
  for (const task of ['refer', 'reason', 'lesion', 'anomaly'] as const) {
    const per = generateSamples(task, 40, 1).flatMap((s) =>
      s.objects.map((o) => maskIoU(segmentFromPrompt(s.image, o.box, o.point), o.mask)),
    );
    const mean = per.reduce((a, b) => a + b, 0) / per.length;
    assert.ok(mean > 0.95, `${task} mean IoU ${mean}`);
  }
});

test('BboxAcc: one-to-one IoU>0.5 matches, no extras', () => {
  const a: Box = [0, 0, 9, 9],
    b: Box = [20, 20, 29, 29];
  assert.equal(boxesCorrect([], []), true);
  assert.equal(boxesCorrect([a], []), false);
  assert.equal(boxesCorrect([], [a]), false);
  assert.equal(boxesCorrect([b, a], [a, b]), true);
  assert.equal(boxesCorrect([a, a], [a, b]), false, 'duplicates cannot cover two truths');
  assert.equal(boxesCorrect([[9, 9, 0, 0]], [a]), false, 'x2 < x1');
});

test('evaluateGrounding: reference responses are perfect; garbage is zero; empty truths feed N-Acc', () => {
  const samples = [...generateSamples('nonobj', 30, 1), ...generateSamples('refer', 10, 1)];
  const perfect = evaluateGrounding(
    samples.map((s) => ({ image: s.image, objects: s.objects, response: referenceResponse(s) })),
  );
  assert.ok(perfect.gIoU > 0.97, `gIoU ${perfect.gIoU}`);
  assert.ok(perfect.cIoU > 0.97);
  assert.equal(perfect.bboxAcc, 1);
  assert.equal(perfect.nAcc, 1);
  const bad = evaluateGrounding(
    samples.map((s) => ({ image: s.image, objects: s.objects, response: 'no idea' })),
  );
  assert.equal(bad.gIoU, 0);
  assert.equal(bad.bboxAcc, 0);
  assert.equal(bad.nAcc, 0);
  const none = evaluateGrounding(
    samples.map((s) => ({ image: s.image, objects: s.objects, response: '<answer>[]</answer>' })),
  );
  assert.equal(none.nAcc, 1);
  assert.ok(none.bboxAcc > 0 && none.bboxAcc < 1);
});

test('presence evaluation: accuracy of the yes/no decision and AUC of the rollout fraction', async () => {
  const { evaluatePresence, predictsPresence } = await import('../../src/metrics/index.js');
  const yes = '<think>t</think><answer>[{"bbox_2d": [1, 1, 3, 3], "point_2d": [2, 2]}]</answer>';
  const no = '<think>t</think><answer>[]</answer>';
  assert.equal(predictsPresence(yes), true);
  assert.equal(predictsPresence(no), false);
  assert.equal(predictsPresence('garbage'), null);
  const r = evaluatePresence([
    { present: true, responses: [yes, yes, no] },
    { present: true, responses: [yes, 'garbage', no] },
    { present: false, responses: [no, no, yes] },
    { present: false, responses: [no, no, no] },
  ]);
  // Right: 2 + 1 + 2 + 3 = 8 of 12.
  assert.equal(r.accuracy, 8 / 12);
  // Scores 2/3, 1/3 (positives) vs 1/3, 0 (negatives): pairs 1 + 1 + 0.5 + 1 = 3.5 of 4.
  assert.equal(r.rocAuc, 3.5 / 4);
  assert.equal(evaluatePresence([{ present: true, responses: [yes] }]).rocAuc, null);
});
