import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyReward,
  boxArea,
  boxIoU,
  hungarian,
  pairHits,
  thresholdsFor,
  type AnswerObject,
  type Box,
} from '../../src/rewards/index.js';

// Raw-pixel thresholds (reference resolution = image size) make the worked examples readable.
const RAW = { width: 840, height: 840, referenceSize: 840 };
const obj = (bbox: Box | null, point: [number, number] | null): AnswerObject => ({ bbox, point });

test('inclusive box geometry', () => {
  assert.equal(boxArea([0, 0, 0, 0]), 1);
  assert.equal(boxArea([0, 0, 9, 4]), 50);
  assert.equal(boxArea([5, 5, 4, 9]), 0, 'inverted');
  assert.equal(boxIoU([0, 0, 9, 9], [0, 0, 9, 9]), 1);
  assert.equal(boxIoU([0, 0, 9, 9], [5, 0, 14, 9]), 50 / 150);
  assert.equal(boxIoU([0, 0, 9, 9], [10, 10, 19, 19]), 0, 'touching only at no pixel');
  assert.equal(boxIoU([9, 9, 0, 0], [0, 0, 9, 9]), 0);
});

test('thresholds scale with image size from the 840 px reference', () => {
  const t = thresholdsFor({ width: 64, height: 64 });
  assert.equal(t.iou, 0.5);
  assert.ok(Math.abs(t.boxL1 - (10 * 64) / 840) < 1e-12);
  assert.ok(Math.abs(t.pointDistance - (30 * 64) / 840) < 1e-12);
  assert.equal(thresholdsFor(RAW).boxL1, 10);
  assert.equal(
    thresholdsFor({ width: NaN, height: -1 }).boxL1,
    thresholdsFor({}).boxL1,
    'bad sizes fall back to 64',
  );
});

test('pair hits: IoU, L1 and point (inside its own box)', () => {
  const t = thresholdsFor(RAW);
  const truth = obj([100, 100, 199, 199], [150, 150]);
  assert.deepEqual(pairHits(obj([100, 100, 199, 199], [150, 150]), truth, t), {
    iou: 1,
    l1: 1,
    point: 1,
  });
  assert.deepEqual(pairHits(obj([105, 105, 204, 204], [170, 170]), truth, t), {
    iou: 1,
    l1: 1,
    point: 1,
  });
  assert.deepEqual(pairHits(obj([110, 110, 209, 209], [180, 181]), truth, t), {
    iou: 1,
    l1: 0,
    point: 0,
  });
  // Point near the true point but outside its own predicted box: no point hit.
  assert.deepEqual(pairHits(obj([100, 100, 140, 140], [150, 150]), truth, t), {
    iou: 0,
    l1: 0,
    point: 0,
  });
  // x2 < x1 (as the reference scores it): IoU 0 and no point inside it, but the mean L1 is
  // measured on the raw coordinates — [102, 98, 197, 201] against [100, 100, 199, 199] is
  // (2 + 2 + 2 + 2) / 4 = 2 < 10, an L1 hit even with x1 and x2 swapped...
  assert.deepEqual(pairHits(obj([197, 98, 102, 201], [150, 150]), truth, t), {
    iou: 0,
    l1: 0,
    point: 0,
  });
  // ...that swap moves x1 and x2 by 97 each: mean L1 (97 + 2 + 97 + 2) / 4 = 49.5, no hit; an
  // inverted box whose raw coordinates are near the truth's does get it:
  assert.deepEqual(
    pairHits(obj([105, 100, 100, 199], [150, 150]), obj([100, 100, 105, 199], [150, 150]), t),
    {
      iou: 0,
      l1: 1,
      point: 0,
    },
  );
  assert.deepEqual(pairHits(obj(null, [150, 150]), truth, t), { iou: 0, l1: 0, point: 0 });
});

test('accuracy: empty/empty 3, one side empty 0', () => {
  assert.equal(accuracyReward([], [], RAW).score, 3);
  assert.equal(accuracyReward([], [obj([0, 0, 5, 5], [2, 2])], RAW).score, 0);
  assert.equal(accuracyReward([obj([0, 0, 5, 5], [2, 2])], [], RAW).score, 0);
});

test('accuracy: more predictions than truths and duplicates are divided by max(#pred,#true)', () => {
  const a = obj([0, 0, 99, 99], [50, 50]);
  const b = obj([300, 300, 399, 399], [350, 350]);
  assert.equal(accuracyReward([a], [a], RAW).score, 3);
  assert.equal(accuracyReward([a, b], [a], RAW).score, 1.5);
  assert.equal(accuracyReward([a, a], [a], RAW).score, 1.5, 'a duplicate cannot match twice');
  assert.equal(accuracyReward([a, a], [a, b], RAW).score, 1.5);
  assert.equal(accuracyReward([b, a], [a, b], RAW).score, 3, 'order does not matter');
  const r = accuracyReward([b, a], [a, b], RAW);
  assert.deepEqual(r.truthToPred, [1, 0]);
});

test('accuracy: predictions beyond the matching cap still count in the denominator', () => {
  const a = obj([0, 0, 99, 99], [50, 50]);
  const many = Array.from({ length: 5000 }, () => a);
  const t0 = Date.now();
  const r = accuracyReward(many, [a], RAW);
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(r.score, 3 / 5000);
});

test('hungarian finds the optimum on random matrices (vs brute force)', () => {
  let seed = 3;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const perms = (n: number, m: number): number[][] => {
    // All injective maps from min(n,m) of the smaller side.
    const out: number[][] = [];
    const rec = (i: number, used: Set<number>, cur: number[]) => {
      if (i === n) return void out.push([...cur]);
      for (let j = 0; j < m; j++)
        if (!used.has(j)) {
          used.add(j);
          cur.push(j);
          rec(i + 1, used, cur);
          cur.pop();
          used.delete(j);
        }
      if (n > m && n - i > m - used.size) {
        cur.push(-1);
        rec(i + 1, used, cur);
        cur.pop();
      }
    };
    rec(0, new Set(), []);
    return out.filter((p) => p.filter((x) => x >= 0).length === Math.min(n, m));
  };
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rnd() * 4);
    const m = 1 + Math.floor(rnd() * 4);
    const c = Array.from({ length: n }, () =>
      Array.from({ length: m }, () => -Math.floor(rnd() * 4)),
    );
    const a = hungarian(c);
    const cost = (p: number[]) => p.reduce((s, j, i) => s + (j >= 0 ? c[i]![j]! : 0), 0);
    const best = Math.min(...perms(n, m).map(cost));
    assert.equal(cost(a), best, JSON.stringify(c));
    assert.equal(new Set(a.filter((j) => j >= 0)).size, Math.min(n, m));
  }
});

test('property: perfect prediction is max, permutation invariant, score in [0,3]', () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const ri = (n: number) => Math.floor(rnd() * n);
  const randObj = (): AnswerObject => {
    const x1 = ri(60),
      y1 = ri(60);
    const bbox: Box = [x1, y1, x1 + ri(20) - 3, y1 + ri(20) - 3];
    return obj(rnd() < 0.9 ? bbox : null, rnd() < 0.9 ? [x1 + ri(10), y1 + ri(10)] : null);
  };
  for (let n = 0; n < 2000; n++) {
    const truth = Array.from({ length: ri(5) }, () => {
      const x1 = ri(50),
        y1 = ri(50);
      return obj([x1, y1, x1 + 1 + ri(12), y1 + 1 + ri(12)], [x1 + 1, y1 + 1]);
    });
    const pred = Array.from({ length: ri(6) }, randObj);
    const s = accuracyReward(pred, truth).score;
    assert.ok(s >= 0 && s <= 3, `score ${s}`);
    assert.equal(accuracyReward(truth, truth).score, 3);
    const shuffled = [...pred].reverse();
    assert.ok(Math.abs(accuracyReward(shuffled, truth).score - s) < 1e-12);
    const tShuffled = [...truth].reverse();
    assert.ok(Math.abs(accuracyReward(pred, tShuffled).score - s) < 1e-12);
  }
});
