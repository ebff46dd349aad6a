/**
 * `visurf eval MODEL --data FILE` on an evaluation-layout Parquet file written here with
 * hyparquet-writer directly (not the project's writer), at a resolution other than the model's:
 * gIoU / cIoU / N-Acc against the file's masks, predictions mapped back to the image's pixels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { encodePng, scaleBox } from '../../src/data/index.js';
import { scaleReply } from '../../src/eval/dataset-eval.js';
import { generateSample } from '../../src/tasks/index.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('scaleReply maps a reply from the model input to the image pixels', () => {
  assert.equal(
    scaleReply(
      '<think>x</think><answer>[{"bbox_2d": [10, 20, 30, 40], "point_2d": [20, 30]}]</answer>',
      2,
      1.5,
    ),
    '<think>x</think><answer>[{"bbox_2d": [20, 30, 61, 61], "point_2d": [40, 45]}]</answer>',
  );
  assert.equal(scaleReply('<answer>3</answer>', 2, 2), '<answer>3</answer>');
});

test('eval --data: a foreign HF-layout Parquet file at 160x120 with masks and an empty target', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'visurf-evaldata-'));
  try {
    const W = 160;
    const H = 120;
    const samples = [1, 2, 3].map((k) => generateSample('refer', k, { width: W, height: H }));
    const empty = Array.from({ length: 60 }, (_, k) =>
      generateSample('nonobj', k, { width: W, height: H }),
    ).find((s) => s.objects.length === 0)!;
    const rows = [...samples, empty];
    const mask = (s: typeof empty) =>
      Array.from({ length: H }, (_, y) =>
        Array.from({ length: W }, (_, x) => (s.objects.some((o) => o.mask[y * W + x]) ? 1 : 0)),
      );
    const images = await Promise.all(
      rows.map(async (s) => ({ bytes: await encodePng(s.image), path: `${s.id}.png` })),
    );
    const columnData = [
      { name: 'image', data: images },
      { name: 'text', data: rows.map((s) => s.prompt) },
      { name: 'mask', data: rows.map(mask) },
      { name: 'bbox', data: rows.map((s) => s.objects.map((o) => [...o.box])) },
      { name: 'img_height', data: rows.map(() => H) },
      { name: 'img_width', data: rows.map(() => W) },
    ];
    const list = (name: string, inner: object[]) => [
      { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      ...inner,
    ];
    const intList = (name: string) =>
      list(name, [{ name: 'element', type: 'INT32', repetition_type: 'OPTIONAL' }]);
    const schema = [
      { name: 'root', num_children: 6 },
      { name: 'image', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ...list('mask', intList('element')),
      ...list('bbox', intList('element')),
      { name: 'img_height', type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'img_width', type: 'INT32', repetition_type: 'OPTIONAL' },
    ];
    const file = join(dir, 'grefcoco-style.parquet');
    writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData, schema } as never)));
    const preds = join(dir, 'preds.jsonl');
    const r = spawnSync(
      process.execPath,
      [MAIN, 'eval', 'base', '--data', file, '--json', '--predictions', preds],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /4 rows \(160x120\); each image resized to 64x64 for the model/);
    const tasks = JSON.parse(r.stdout) as {
      task: string;
      n: number;
      gIoU: number;
      cIoU: number;
      nAcc: number | null;
    }[];
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!.task, 'refer');
    assert.equal(tasks[0]!.n, 4);
    for (const k of ['gIoU', 'cIoU'] as const)
      assert.ok(tasks[0]![k] >= 0 && tasks[0]![k] <= 1, `${k} ${tasks[0]![k]}`);
    assert.ok(typeof tasks[0]!.nAcc === 'number', 'N-Acc over the empty target');
    const lines = readFileSync(preds, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { response: string; scaledResponse: string });
    assert.equal(lines.length, 4);
    // the replies scored are in the image's pixels: 2.5x the model's (160 / 64)
    const box = (t: string) =>
      /"bbox_2d": \[(\d+), (\d+), (\d+), (\d+)\]/.exec(t)?.slice(1).map(Number);
    let checked = 0;
    for (const l of lines) {
      const a = box(l.response);
      const b = box(l.scaledResponse);
      if (!a || !b) continue;
      // 160/64 across, 120/64 down, as inclusive pixel ranges
      assert.deepEqual(b, scaleBox(a as [number, number, number, number], 2.5, 1.875), l.response);
      checked++;
    }
    assert.ok(checked > 0, 'some reply with a box');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
