/**
 * Untrusted model output through the evaluation metrics: evaluateGrounding and evaluatePresence
 * on adversarial responses (deep nesting, 10^6 objects, huge and non-finite numbers, control
 * characters, lone surrogates, non-strings) and on thousands of random mutations of valid
 * answers. They must never throw, always return scores in [0, 1], and stay within bounded time
 * and memory per case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateGrounding,
  evaluatePresence,
  type GroundingCase,
  type GroundingReport,
} from '../../src/metrics/index.js';
import { generateSamples, referenceResponse } from '../../src/tasks/index.js';
import { rng } from './helpers.js';
import { mutateText } from '../fuzz.js';

const samples = [
  ...generateSamples('refer', 3, 5),
  ...generateSamples('nonobj', 3, 6),
  ...generateSamples('anomaly', 2, 7),
];
const BOUND_MS = 1500; // per call, generous: this guards against blow-ups, not for speed

function assertReport(g: GroundingReport, what: string) {
  for (const [k, v] of Object.entries(g)) {
    if (k === 'count' || v === null) continue;
    assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `${what}: ${k} = ${v}`);
  }
}

function check(responses: unknown[], what: string): number {
  const t0 = performance.now();
  const cases: GroundingCase[] = responses.map((r, i) => {
    const s = samples[i % samples.length]!;
    return { image: s.image, objects: s.objects, response: r as string };
  });
  let g: GroundingReport;
  try {
    g = evaluateGrounding(cases);
    const p = evaluatePresence(
      responses.map((r, i) => ({
        present: samples[i % samples.length]!.objects.length > 0,
        responses: [r as string, r as string],
      })),
    );
    assert.ok(p.accuracy >= 0 && p.accuracy <= 1, `${what}: presence accuracy ${p.accuracy}`);
    assert.ok(p.rocAuc === null || (p.rocAuc >= 0 && p.rocAuc <= 1), `${what}: auc ${p.rocAuc}`);
  } catch (e) {
    assert.fail(`${what}: threw ${(e as Error)?.stack ?? String(e)}`);
  }
  assertReport(g, what);
  assert.equal(g.count, responses.length);
  const ms = performance.now() - t0;
  assert.ok(ms < BOUND_MS, `${what}: ${ms.toFixed(0)} ms`);
  return ms;
}

test('adversarial responses: deep nesting, 10^6 objects, huge numbers, control characters, non-strings', () => {
  const obj = '{"bbox_2d": [10, 10, 40, 40], "point_2d": [20, 20]}';
  const million = `<think>x</think><answer>[${Array(1_000_000).fill(obj).join(',')}]</answer>`;
  const adversarial: [string, unknown][] = [
    ['deep arrays', `<answer>${'['.repeat(200_000)}${']'.repeat(200_000)}</answer>`],
    ['deep objects', `<answer>${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}</answer>`],
    ['deep unclosed', `<answer>${'[{"bbox_2d":'.repeat(50_000)}`],
    ['10^6 objects', million],
    ['10^6 objects, no tags', million.slice(25, -9)],
    ['300 objects under the length limit', `<answer>[${Array(300).fill(obj).join(',')}]</answer>`],
    ['10^6 empty objects', `<answer>[${'{},'.repeat(1_000_000)}{}]</answer>`],
    [
      'huge numbers',
      '<answer>[{"bbox_2d": [1e308, -1e308, 1e308, 1e308], "point_2d": [1e308, 1e308]}]</answer>',
    ],
    ['overflow', '<answer>[{"bbox_2d": [0, 0, 1e309, 1e309], "point_2d": [-1e309, 5]}]</answer>'],
    ['whole image', '<answer>[{"bbox_2d": [-1e15, -1e15, 1e15, 1e15]}]</answer>'],
    ['NaN tokens', '<answer>[{"bbox_2d": [NaN, 0, Infinity, -Infinity]}]</answer>'],
    ['long digits', `<answer>[{"bbox_2d": [${'9'.repeat(10_000)}, 0, 1, 1]}]</answer>`],
    [
      'strings as numbers',
      '<answer>[{"bbox_2d": ["10", "10", "40", "40"], "point_2d": [null, true]}]</answer>',
    ],
    [
      'wrong shapes',
      '<answer>[{"bbox_2d": [1, 2, 3]}, {"bbox_2d": [[1, 2], [3, 4]]}, {"point_2d": {}}, 7, null, "x"]</answer>',
    ],
    [
      'control characters',
      `<answer>${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')}[]\u0000</answer>`,
    ],
    ['lone surrogates', '<answer>[\ud800{"bbox_2d": [1, 1, 5, 5]}\udfff]</answer>\ud83d'],
    ['BOM and separators', '\ufeff<answer>\u2028[\u2029]</answer>'],
    ['many answer tags', '<answer>[]</answer>'.repeat(100_000)],
    ['unterminated tags', '<answer>'.repeat(100_000)],
    ['10 MB of text', 'a'.repeat(10_000_000)],
    ['empty', ''],
    ['undefined', undefined],
    ['number', 42],
    [
      'object',
      {
        toString: () => {
          throw new Error('no');
        },
      },
    ],
    ['array', ['<answer>[]</answer>']],
  ];
  const rssBefore = process.memoryUsage().rss;
  const times: string[] = [];
  for (const [name, response] of adversarial) {
    const ms = check([response, response, response], name);
    times.push(`${name} ${ms.toFixed(0)}ms`);
  }
  const grew = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  console.log(
    `metrics adversarial: ${adversarial.length} kinds x 3 cases; ${times.join(', ')}; RSS +${grew.toFixed(0)} MB`,
  );
  assert.ok(grew < 512, `memory grew by ${grew.toFixed(0)} MB`);
});

test('fuzz: 3000 mutated valid answers through both metrics never throw, bounded time', () => {
  const r = rng(99);
  const ri = (n: number) => Math.floor(r() * n);
  const seeds = samples.map((s) => referenceResponse(s));
  const mutate = (s: string) => mutateText(s, ri);
  const N = 3000;
  const BATCH = 10;
  let worst = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, j) => mutate(seeds[(i + j) % seeds.length]!));
    worst = Math.max(
      worst,
      check(batch, `batch ${i / BATCH}: ${JSON.stringify(batch).slice(0, 2000)}`),
    );
  }
  // The unmutated references score perfectly (the fuzz harness itself is sound).
  const perfect = evaluateGrounding(
    samples.map((s) => ({ image: s.image, objects: s.objects, response: referenceResponse(s) })),
  );
  assert.equal(perfect.bboxAcc, 1);
  console.log(
    `metrics fuzz: ${N} responses in batches of ${BATCH}, worst batch ${worst.toFixed(1)} ms, total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
});
