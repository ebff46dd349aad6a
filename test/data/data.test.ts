import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  checkDataset,
  contactSheet,
  DatasetError,
  decodeImage,
  decodeMaskRle,
  encodeJpeg,
  encodeMaskRle,
  encodePng,
  readDataset,
  readParquetRows,
  PARQUET_CHUNK_ROWS,
  resizeImage,
  writeDataset,
} from '../../src/data/index.js';
import {
  generateSample,
  generateSamples,
  TASK_NAMES,
  Rng,
  type Sample,
} from '../../src/tasks/index.js';

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'visurf-data-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function assertSameSample(a: Sample, b: Sample): void {
  assert.equal(b.id, a.id);
  assert.equal(b.task, a.task);
  assert.equal(b.prompt, a.prompt);
  assert.equal(b.solution, a.solution);
  assert.equal(b.answer, a.answer);
  assert.equal(b.think, a.think);
  assert.equal(b.image.width, a.image.width);
  assert.equal(b.image.height, a.image.height);
  assert.deepEqual(b.image.data, a.image.data, `${a.id} image bytes`);
  assert.equal(b.objects.length, a.objects.length);
  a.objects.forEach((o, i) => {
    assert.deepEqual(b.objects[i]!.box, o.box);
    assert.deepEqual(b.objects[i]!.point, o.point);
    assert.deepEqual(b.objects[i]!.mask, o.mask);
  });
}

const everyTask = (): Sample[] => TASK_NAMES.flatMap((t) => generateSamples(t, 3, 20));

test('codec: PNG is lossless, JPEG decodes to RGB, resize sets the size', async () => {
  const s = generateSample('lesion', 1);
  assert.deepEqual((await decodeImage(await encodePng(s.image))).data, s.image.data);
  const j = await decodeImage(await encodeJpeg(s.image));
  assert.equal(j.width, 64);
  assert.equal(j.data.length, 64 * 64 * 3);
  const r = await resizeImage(s.image, 32, 48);
  assert.deepEqual([r.width, r.height, r.data.length], [32, 48, 32 * 48 * 3]);
});

test('mask RLE round-trips random masks', () => {
  const rng = new Rng(1);
  for (let t = 0; t < 300; t++) {
    const m = Uint8Array.from({ length: rng.int(0, 300) }, () => (rng.chance(0.3) ? 1 : 0));
    assert.deepEqual(decodeMaskRle(encodeMaskRle(m), m.length), m);
  }
  assert.throws(() => decodeMaskRle([3, 2], 4));
});

test('round trip: generate -> Parquet (train layout) -> read gives identical samples', async () => {
  await withTmp(async (dir) => {
    const samples = everyTask();
    const path = join(dir, 'train.parquet');
    await writeDataset(path, samples);
    const back = await readDataset(path);
    assert.equal(back.layout, 'train');
    assert.equal(back.bad, 0);
    assert.equal(back.samples.length, samples.length);
    samples.forEach((s, i) => assertSameSample(s, back.samples[i]!));
    const raw = await readParquetRows(path);
    assert.deepEqual(Object.keys(raw[0]!).slice(0, 3), ['image', 'problem', 'solution']);
    assert.ok(
      (raw[0]!['image'] as { bytes: Uint8Array }).bytes instanceof Uint8Array,
      'image is an HF {bytes, path} struct',
    );
  });
});

test('round trip: JSONL with image files', async () => {
  await withTmp(async (dir) => {
    const samples = everyTask();
    const path = join(dir, 'train.jsonl');
    await writeDataset(path, samples);
    const first = JSON.parse((await readFile(path, 'utf8')).split('\n')[0]!) as { image: string };
    assert.equal(first.image, `images/${samples[0]!.id}.png`);
    const back = await readDataset(path);
    samples.forEach((s, i) => assertSameSample(s, back.samples[i]!));
  });
});

test('round trip: evaluation layout keeps image, boxes and masks', async () => {
  await withTmp(async (dir) => {
    const samples = [
      ...generateSamples('refer', 6, 3),
      ...generateSamples('nonobj', 6, 3),
      ...generateSamples('lesion', 3, 3),
    ];
    for (const ext of ['parquet', 'jsonl']) {
      const path = join(dir, `eval.${ext}`);
      await writeDataset(path, samples, { layout: 'eval' });
      const back = await readDataset(path);
      assert.equal(back.layout, 'eval');
      samples.forEach((s, i) => {
        const b = back.samples[i]!;
        assert.deepEqual(b.image.data, s.image.data);
        assert.equal(b.prompt, s.prompt);
        assert.deepEqual(
          b.objects.map((o) => o.box),
          s.objects.map((o) => o.box),
        );
        s.objects.forEach((o, k) =>
          assert.deepEqual(b.objects[k]!.mask, o.mask, `${s.id} object ${k} mask`),
        );
        assert.equal(b.solution === '[]', s.solution === '[]');
      });
    }
  });
});

test('a Parquet written in the HF image-struct layout (pyarrow-like, INT64 sizes, path-only image) loads', async () => {
  await withTmp(async (dir) => {
    const s = generateSample('refer', 4);
    const png = await encodePng(s.image);
    await writeFile(join(dir, 'side.png'), png);
    const schema = [
      { name: 'schema', num_children: 4 },
      { name: 'image', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'problem', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'solution', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'img_height', type: 'INT64', repetition_type: 'OPTIONAL' },
    ] as const;
    const solution = '[{"bbox_2d":[1,2,10,12],"point_2d":[5,6]}]';
    const buf = parquetWriteBuffer({
      schema: schema as never,
      columnData: [
        {
          name: 'image',
          data: [
            { bytes: png, path: null },
            { bytes: null, path: 'side.png' },
          ],
        },
        { name: 'problem', data: ['Please find "the red circle" with bboxs and points.', 'q2'] },
        { name: 'solution', data: [solution, '[]'] },
        { name: 'img_height', data: [64n, 64n] },
      ],
    });
    const path = join(dir, 'hf.parquet');
    await writeFile(path, new Uint8Array(buf));
    const r = await readDataset(path, { task: 'nonobj' });
    assert.equal(r.samples.length, 2);
    assert.deepEqual(r.samples[0]!.image.data, s.image.data);
    assert.deepEqual(r.samples[1]!.image.data, s.image.data);
    assert.equal(r.samples[0]!.task, 'nonobj');
    assert.deepEqual(r.samples[0]!.objects[0]!.box, [1, 2, 10, 12]);
    assert.deepEqual(r.samples[0]!.objects[0]!.point, [5, 6]);
    assert.equal(
      r.samples[0]!.answer,
      '[{"bbox_2d": [1, 2, 10, 12], "point_2d": [5, 6]}]',
      'label aligned to policy style',
    );
    assert.equal(r.samples[1]!.objects.length, 0);
    // The same layout as JSONL: image struct with base64 bytes, or a bare path.
    const jsonl = join(dir, 'hf.jsonl');
    const b64 = Buffer.from(png).toString('base64');
    await writeFile(
      jsonl,
      JSON.stringify({ image: { bytes: b64, path: null }, problem: 'p', solution }) +
        '\n' +
        JSON.stringify({ image: 'side.png', problem: 'q', solution: '[]' }) +
        '\n',
    );
    const j = await readDataset(jsonl);
    assert.deepEqual(j.samples[0]!.image.data, s.image.data);
    assert.deepEqual(j.samples[1]!.image.data, s.image.data);
    assert.deepEqual(j.samples[0]!.objects[0]!.box, [1, 2, 10, 12]);
  });
});

test('validation names file, row and field; skipBad counts bad rows', async () => {
  await withTmp(async (dir) => {
    const path = join(dir, 'bad.jsonl');
    const good = await generateSamples('count', 1, 0)[0]!;
    await writeDataset(path, [good, good, good, good]);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    lines[1] = JSON.stringify({ ...JSON.parse(lines[1]!), solution: 7 });
    lines[2] = '{"image": "images/missing.png", "problem": "p", "solution": "3"}';
    lines.push('not json');
    await writeFile(path, lines.join('\n') + '\n');
    await assert.rejects(readDataset(path), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.detail.row, 1);
      assert.equal(e.detail.field, 'solution');
      assert.match(e.message, /bad\.jsonl: row 1: field "solution"/);
      return true;
    });
    const r = await readDataset(path, { skipBad: true });
    assert.equal(r.rows, 5);
    assert.equal(r.samples.length, 2);
    assert.equal(r.bad, 3);
    assert.deepEqual(
      r.errors.map((e) => [e.row, e.field]),
      [
        [1, 'solution'],
        [2, 'image'],
        [4, '(row)'],
      ],
    );
    const report = await checkDataset(path);
    assert.equal(report.bad, 3);
    assert.equal(report.firstError?.field, 'solution');
    const missing = await checkDataset(join(dir, 'nope.parquet'));
    assert.equal(missing.firstError?.field, '(file)');
  });
});

test('contact sheet draws a grid with boxes', () => {
  const samples = generateSamples('refer', 5, 0);
  const sheet = contactSheet(samples, { columns: 3, zoom: 2, captions: false });
  assert.equal(sheet.width, 3 * (64 * 2 + 4));
  assert.equal(sheet.height, 2 * (64 * 2 + 4));
  let green = 0;
  for (let p = 0; p < sheet.width * sheet.height; p++)
    if (sheet.data[p * 3] === 0 && sheet.data[p * 3 + 1] === 255 && sheet.data[p * 3 + 2] === 0)
      green++;
  assert.ok(green > 50);
});

test('resizeSample scales image, boxes, points and masks together; grounding stays rewardable', async () => {
  const { resizeSample, scaleBox } = await import('../../src/data/index.js');
  const { rewardForSample, referenceResponse, maskBox } = await import('../../src/tasks/index.js');
  assert.deepEqual(scaleBox([0, 0, 63, 63], 2, 2), [0, 0, 127, 127]);
  assert.deepEqual(scaleBox([10, 20, 19, 29], 0.5, 0.5), [5, 10, 9, 14]);
  for (const task of ['refer', 'gui', 'lesion', 'count'] as const) {
    const s = generateSample(task, 2, { width: 128, height: 128 });
    const r = await resizeSample(s, 64, 64);
    assert.equal(r.image.width, 64);
    assert.equal(r.image.data.length, 64 * 64 * 3);
    r.objects.forEach((o, i) => {
      assert.equal(o.mask.length, 64 * 64);
      if (task !== 'gui') assert.deepEqual(maskBox(o.mask, 64), o.box);
      assert.equal(o.mask[o.point[1] * 64 + o.point[0]], 1);
      assert.ok(Math.abs(o.box[0] - s.objects[i]!.box[0] / 2) <= 1);
    });
    const score = rewardForSample(r, referenceResponse(r));
    assert.equal(score.total, score.maxTotal, task);
  }
  await withTmp(async (dir) => {
    const path = join(dir, 'big.parquet');
    await writeDataset(path, generateSamples('refer', 3, 0, { width: 96, height: 96 }));
    const back = await readDataset(path, { resize: { width: 48, height: 48 } });
    assert.ok(
      back.samples.every((s) => s.image.width === 48 && s.objects[0]!.mask.length === 48 * 48),
    );
  });
});

test('corrupt files and mismatched masks are reported, not crashed on', async () => {
  await withTmp(async (dir) => {
    const junk = join(dir, 'junk.parquet');
    await writeFile(junk, new Uint8Array(Array.from({ length: 500 }, (_, i) => (i * 37) % 256)));
    const report = await checkDataset(junk);
    assert.equal(report.firstError?.field, '(file)');
    await assert.rejects(readDataset(junk));
    const path = join(dir, 'eval.jsonl');
    await writeDataset(path, generateSamples('refer', 2, 0), { layout: 'eval' });
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    const row = JSON.parse(lines[1]!) as Record<string, unknown>;
    row['mask'] = [[0, 1]];
    lines[1] = JSON.stringify(row);
    await writeFile(path, lines.join('\n'));
    const r = await checkDataset(path);
    assert.equal(r.bad, 1);
    assert.deepEqual([r.firstError?.row, r.firstError?.field], [1, 'mask']);
    row['mask'] = 'x';
    row['bbox'] = [1, 2, 3];
    lines[1] = JSON.stringify(row);
    await writeFile(path, lines.join('\n'));
    const r2 = await checkDataset(path);
    assert.equal(r2.firstError?.row, 1);
    assert.equal(r2.firstError?.field, 'bbox');
  });
});

test('offset and limit read a slice; row numbers stay absolute', async () => {
  await withTmp(async (dir) => {
    const samples = generateSamples('chart', 10, 0);
    for (const ext of ['parquet', 'jsonl']) {
      const path = join(dir, `s.${ext}`);
      await writeDataset(path, samples);
      const r = await readDataset(path, { offset: 3, limit: 4 });
      assert.deepEqual(
        r.samples.map((s) => s.id),
        samples.slice(3, 7).map((s) => s.id),
      );
      assert.equal(r.rows, 4);
    }
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"image":"a.png","problem":"p","solution":"1"}\n'.repeat(5) + 'oops\n');
    const r = await readDataset(bad, { offset: 5, skipBad: true });
    assert.deepEqual([r.errors[0]?.row, r.errors[0]?.field], [5, '(row)']);
  });
});

test('Parquet is read in chunks: every row, in order, across chunk boundaries; slices too', async () => {
  await withTmp(async (dir) => {
    const n = PARQUET_CHUNK_ROWS * 2 + 7;
    const samples = generateSamples('count', n, 3, { width: 16, height: 16 });
    const path = join(dir, 'big.parquet');
    await writeDataset(path, samples);
    const all = await readDataset(path);
    assert.equal(all.rows, n);
    assert.deepEqual(
      all.samples.map((s) => s.id),
      samples.map((s) => s.id),
    );
    const off = PARQUET_CHUNK_ROWS - 5;
    const slice = await readDataset(path, { offset: off, limit: PARQUET_CHUNK_ROWS + 10 });
    assert.deepEqual(
      slice.samples.map((s) => s.answer),
      samples.slice(off, off + PARQUET_CHUNK_ROWS + 10).map((s) => s.answer),
    );
  });
});

test('a truncated Parquet file is a DatasetError naming the file', async () => {
  await withTmp(async (dir) => {
    const path = join(dir, 'cut.parquet');
    await writeDataset(path, generateSamples('count', 4, 0));
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(readDataset(path), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.match(e.message, /cut\.parquet/);
      assert.match(e.message, /cannot read the file as Parquet/);
      return true;
    });
  });
});

test('contact sheet captions: the prompt and the answer under each tile, in ink', async () => {
  const { captionLines, CAPTION_LINES } = await import('../../src/data/index.js');
  const count = generateSamples('count', 1, 4)[0]!;
  const lines = captionLines(count, 24);
  assert.equal(lines.length <= CAPTION_LINES, true);
  assert.equal(lines.at(-1)!.text, `: ${count.answer}`);
  assert.ok(lines.every((l) => l.text.length <= 24));
  const empty = generateSamples('nonobj', 40, 0).find((s) => s.objects.length === 0)!;
  assert.equal(captionLines(empty, 24).at(-1)!.text, ': NONE');
  // the strip is drawn: dark pixels below the image of every tile
  const samples = generateSamples('chart', 4, 0);
  const sheet = contactSheet(samples, { columns: 2, zoom: 3 });
  const tileH = sheet.height / 2;
  for (let t = 0; t < 4; t++) {
    const ox = (t % 2) * (sheet.width / 2);
    const oy = Math.floor(t / 2) * tileH + 2 + 64 * 3;
    let ink = 0;
    for (let y = oy; y < (Math.floor(t / 2) + 1) * tileH; y++)
      for (let x = ox; x < ox + sheet.width / 2; x++) {
        const p = (y * sheet.width + x) * 3;
        if (sheet.data[p]! < 100 && sheet.data[p + 2]! < 100) ink++;
      }
    assert.ok(ink > 100, `tile ${t}: ${ink} caption pixels`);
  }
  await mkdirArtifacts();
  await writeFile(
    new URL('../../test-artifacts/contact-sheet.png', import.meta.url),
    await encodePng(sheet),
  );
});

async function mkdirArtifacts() {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(new URL('../../test-artifacts/', import.meta.url), { recursive: true });
}
