import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANSWER_KINDS,
  rewardForKind,
  splitResponse,
  parseResponseObjects,
} from '../../src/rewards/index.js';
import { mutateText } from '../fuzz.js';

// Safety bound per case, generous on purpose: speed targets belong to the benchmarks.
const BOUND_MS = 50;

let seed = 12345;
const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const ri = (n: number) => Math.floor(rnd() * n);

const SEEDS = [
  '<think>the red circle</think><answer>[{"bbox_2d": [10, 20, 30, 40], "point_2d": [20, 30]}]</answer>',
  '<think>none</think><answer>[]</answer>',
  '<answer>3</answer>',
  '<think>a.b.a.</think><answer>12.5</answer>',
];
const mutate = (s: string): string => mutateText(s, ri);

function huge(): string {
  switch (ri(7)) {
    case 6: {
      // ~800 valid objects inside the parse limit: exercises the matching cap, not the length cap.
      const o = '{"point_2d":[1,2]}';
      return `<think>t</think><answer>[${Array(800).fill(o).join(',')}]</answer>`;
    }
    case 0:
      return '<think>' + 'x'.repeat(2_000_000) + '</think><answer>[]</answer>';
    case 1:
      return '<think>t</think><answer>' + '['.repeat(200_000) + ']'.repeat(200_000) + '</answer>';
    case 2: {
      const o = '{"bbox_2d": [1, 2, 3, 4], "point_2d": [2, 3]}';
      return `<think>t</think><answer>[${Array(3000).fill(o).join(',')}]</answer>`;
    }
    case 3:
      return '<think>' + 'a. '.repeat(100_000) + '</think><answer>1</answer>';
    case 4:
      return '</think>'.repeat(50_000) + '<answer>';
    default:
      return '<think>' + ' </think> '.repeat(50_000) + '<answer>[]</answer>';
  }
}

function check(response: string, solution: string): void {
  for (const kind of ANSWER_KINDS) {
    for (const thinking of [true, false]) {
      const t0 = performance.now();
      const r = rewardForKind(kind, response, solution, { thinking });
      const ms = performance.now() - t0;
      assert.ok(
        ms < BOUND_MS,
        `${kind} took ${ms.toFixed(1)} ms on ${JSON.stringify(response.slice(0, 80))}`,
      );
      for (const v of [r.answerFormat, r.accuracy, r.nonRepeat, r.total])
        assert.ok(Number.isFinite(v) && v >= 0);
      assert.ok(r.total <= r.maxTotal + 1e-9);
    }
  }
  splitResponse(response);
  parseResponseObjects(response);
}

test('fuzz: mutated responses never throw, score in range, finish within the bound', () => {
  const solutions = [
    '[{"bbox_2d": [10, 20, 30, 40], "point_2d": [20, 30]}]',
    '[]',
    '3',
    '12.5',
    'red',
  ];
  for (let n = 0; n < 1500; n++) {
    const base = SEEDS[ri(SEEDS.length)]!;
    check(mutate(base), solutions[ri(solutions.length)]!);
  }
});

test('fuzz: random byte strings and huge adversarial inputs', () => {
  for (let n = 0; n < 300; n++) {
    let s = '';
    const len = ri(200);
    for (let i = 0; i < len; i++) s += String.fromCharCode(ri(128));
    check(s, mutate(SEEDS[0]!.slice(25, -9)));
  }
  for (let n = 0; n < 14; n++) check(huge(), '[{"bbox_2d": [1, 2, 3, 4], "point_2d": [2, 3]}]');
});
