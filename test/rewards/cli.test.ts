import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scoreLine } from '../../src/cli/reward.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('visurf reward: one JSON line per input, errors name the line, never a crash', () => {
  const input = [
    JSON.stringify({
      task: 'refer',
      response: '<think>a</think><answer>[]</answer>',
      solution: '[]',
    }),
    '',
    'not json',
    JSON.stringify({ task: 'count', response: '<answer>3</answer>', solution: '3' }),
    JSON.stringify({ task: 'refer', response: 5, solution: '[]' }),
    '[1,2]',
    JSON.stringify({
      task: 'lesion',
      response: '<think>' + 'x'.repeat(200000),
      solution: '[{"bbox_2d":[1,1,5,5],"point_2d":[2,2]}]',
    }),
  ].join('\n');
  const r = spawnSync(process.execPath, [MAIN, 'reward'], { input, encoding: 'utf8' });
  assert.equal(r.status, 1, 'some lines failed');
  assert.match(r.stderr, /reward: 3 of 7 line\(s\) failed/);
  const out = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    out.map((o) => o['line']),
    [1, 3, 4, 5, 6, 7],
  );
  assert.equal(out[0]!['total'], 7);
  assert.equal(out[0]!['thinkFormat'], 1);
  assert.match(String(out[1]!['error']), /not JSON/);
  assert.equal(out[2]!['accuracy'], 1);
  assert.equal(out[2]!['thinkFormat'], 0);
  assert.match(String(out[3]!['error']), /response/);
  assert.match(String(out[4]!['error']), /JSON object/);
  assert.equal(out[5]!['total'], 1, 'only non-repeat survives a truncated response');
});

test('visurf reward --no-thinking drops the thinking component', () => {
  const input =
    JSON.stringify({ task: 'count', response: '<answer>3</answer>', solution: '3' }) + '\n';
  const r = spawnSync(process.execPath, [MAIN, 'reward', '--no-thinking'], {
    input,
    encoding: 'utf8',
  });
  const o = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(o['thinkFormat'], null);
  assert.equal(o['total'], 3);
  assert.equal(o['maxTotal'], 3);
});

test('scoreLine passes per-line image sizes to the thresholds', () => {
  const sol = '[{"bbox_2d": [100, 100, 199, 199], "point_2d": [150, 150]}]';
  const resp =
    '<think>a</think><answer>[{"bbox_2d": [105, 105, 204, 204], "point_2d": [160, 160]}]</answer>';
  const small = scoreLine(JSON.stringify({ task: 'refer', response: resp, solution: sol }), 1, {});
  const big = scoreLine(
    JSON.stringify({ task: 'refer', response: resp, solution: sol, width: 840, height: 840 }),
    1,
    {},
  );
  assert.equal(small['accuracy'], 1, 'at 64 px only the IoU hit survives');
  assert.equal(big['accuracy'], 3);
});

test('scoreLine reads image_size [w, h] like width/height and rejects unknown fields', () => {
  const sol = '[{"bbox_2d": [100, 100, 199, 199], "point_2d": [150, 150]}]';
  const resp =
    '<think>a</think><answer>[{"bbox_2d": [105, 105, 204, 204], "point_2d": [160, 160]}]</answer>';
  const line = (extra: object) =>
    scoreLine(JSON.stringify({ task: 'refer', response: resp, solution: sol, ...extra }), 2, {});
  assert.equal(line({ image_size: [840, 840] })['accuracy'], 3);
  assert.match(
    String(line({ image_size: [840] })['error']),
    /"image_size" must be \[width, height\]/,
  );
  assert.match(String(line({ imagesize: [840, 840] })['error']), /unknown field "imagesize"/);
  assert.match(String(line({ image_size: [840, 840], width: 840 })['error']), /not both/);
  assert.match(String(line({ width: -1 })['error']), /"width" must be a positive number/);
});

test('visurf reward exits 0 when every line scores', () => {
  const input =
    JSON.stringify({ task: 'count', response: '<answer>3</answer>', solution: '3' }) + '\n';
  const r = spawnSync(process.execPath, [MAIN, 'reward'], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
