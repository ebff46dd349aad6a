/**
 * Bad datasets (JSONL and Parquet, written with src/data's writers and then damaged): training
 * must fail before the first step with a DatasetError naming file, row and field — nothing
 * trained, no checkpoint — and with data.skipBadRows=true skip and count exactly the bad rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  DatasetError,
  writeDataset,
  writeParquetRows,
  sampleToTrainRow,
} from '../../src/data/index.js';
import { generateSamples } from '../../src/tasks/index.js';
import { readTrainingDataset } from '../../src/train/dataset-reader.js';
import { BYTE_TOKENIZER } from '../../src/model/index.js';
import { ConfigError } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { tinyConfig, tinySets, trainCli, withTemp } from './helpers.js';

type Row = Record<string, unknown>;

/** A PNG whose header claims width×height pixels (no real pixel data). */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([120, 156, 3, 0, 0, 0, 0, 1])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** JSONL damage: [name, row damaged, field expected in the error, edit]. */
const JSONL_CASES: [string, number, string, (r: Row, dir: string) => void][] = [
  ['missing column', 1, 'solution', (r) => delete r['solution']],
  ['wrong type', 2, 'problem', (r) => (r['problem'] = 123)],
  ['wrong type (image)', 0, 'image', (r) => (r['image'] = { bytes: null, path: null })],
  [
    'undecodable image',
    3,
    'image',
    (r, dir) => (
      writeFileSync(join(dir, 'images', 'junk.png'), 'not an image'),
      (r['image'] = 'images/junk.png')
    ),
  ],
  ['missing image file', 2, 'image', (r) => (r['image'] = 'images/nowhere.png')],
  [
    'absurd image size',
    1,
    'image',
    (r, dir) => (
      writeFileSync(join(dir, 'images', 'huge.png'), pngClaiming(100_000, 100_000)),
      (r['image'] = 'images/huge.png')
    ),
  ],
  ['absurd img_width', 3, 'img_width', (r) => (r['img_width'] = -5)],
  [
    'invalid solution JSON',
    2,
    'solution',
    (r) => ((r['solution'] = '<answer>[{"bbox_2d": [1, 2</answer>'), delete r['objects']),
  ],
  [
    'solution not a list',
    1,
    'solution',
    (r) => ((r['solution'] = '<answer>{"a": 1}</answer>'), delete r['objects']),
  ],
  ['empty solution', 0, 'solution', (r) => (r['solution'] = '')],
  ['invalid objects JSON', 3, 'objects', (r) => (r['objects'] = '[{')],
  [
    'absurd prompt length',
    2,
    'problem',
    (r) => (r['problem'] = 'where is the red circle? '.repeat(4000)),
  ],
];

async function goodJsonl(dir: string): Promise<{ path: string; rows: Row[] }> {
  const path = join(dir, 'good.jsonl');
  await writeDataset(path, generateSamples('refer', 4, 11));
  const rows = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
  return { path, rows };
}

function writeJsonl(path: string, rows: (Row | string)[]) {
  writeFileSync(
    path,
    rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n',
  );
}

async function assertFailsBeforeTraining(file: string, runDir: string, re: RegExp) {
  await assert.rejects(
    train(tinyConfig(runDir, 2, [`data.path=${file}`])),
    (e: unknown) => {
      assert.ok(e instanceof DatasetError || e instanceof ConfigError, `unexpected ${String(e)}`);
      assert.match((e as Error).message, re);
      return true;
    },
    `${file}: training started`,
  );
  assert.ok(!existsSync(join(runDir, 'metrics.jsonl')), 'no step ran');
  assert.ok(!existsSync(join(runDir, 'checkpoints')), 'no checkpoint was written');
}

test(`JSONL: ${JSONL_CASES.length} kinds of bad row fail before training naming file, row and field; skipBadRows counts them`, async () => {
  await withTemp(async (dir) => {
    const { path, rows } = await goodJsonl(dir);
    for (const [name, row, field, edit] of JSONL_CASES) {
      const bad = rows.map((r) => structuredClone(r));
      edit(bad[row]!, dir);
      const file = join(dir, `${name.replace(/\W+/g, '-')}.jsonl`);
      writeJsonl(file, bad);
      const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await assertFailsBeforeTraining(
        file,
        join(dir, `run-${name}`),
        new RegExp(`^${esc}: row ${row}: field "${field}": .*1 bad row\\(s\\) of 4`),
      );
      const skipped = await readTrainingDataset(file, {
        skipBad: true,
        prompt: { template: 'compact', maxPromptTokens: 16, tokenizer: BYTE_TOKENIZER },
      });
      assert.equal(skipped.bad, 1, name);
      assert.equal(skipped.samples.length, 3, name);
      assert.deepEqual(
        skipped.errors.map((e) => [e.row, e.field]),
        [[row, field]],
        name,
      );
    }
    // A line that is not JSON, and a file of nothing but bad rows.
    writeJsonl(join(dir, 'notjson.jsonl'), [rows[0]!, '{"image": "x.png", "problem":', rows[1]!]);
    await assertFailsBeforeTraining(
      join(dir, 'notjson.jsonl'),
      join(dir, 'run-notjson'),
      /notjson\.jsonl: row 1: field "\(row\)"/,
    );
    writeJsonl(join(dir, 'allbad.jsonl'), ['[1, 2]', 'null', '"text"']);
    await assertFailsBeforeTraining(
      join(dir, 'allbad.jsonl'),
      join(dir, 'run-allbad'),
      /allbad\.jsonl: row 0: field "\(row\)"/,
    );
    await assert.rejects(
      train(
        tinyConfig(join(dir, 'run-allbad-skip'), 2, [
          `data.path=${join(dir, 'allbad.jsonl')}`,
          'data.skipBadRows=true',
        ]),
      ),
      /allbad\.jsonl: no usable rows \(3 read, 3 bad\)/,
    );
    // Empty dataset.
    writeFileSync(join(dir, 'empty.jsonl'), '');
    await assertFailsBeforeTraining(
      join(dir, 'empty.jsonl'),
      join(dir, 'run-empty'),
      /empty\.jsonl: no usable rows \(0 read, 0 bad\)/,
    );
    assert.ok(existsSync(path));
  });
});

test('Parquet: missing column, null/wrong cells, undecodable image, invalid solution, empty file', async () => {
  await withTemp(async (dir) => {
    const rows = (await Promise.all(
      generateSamples('refer', 4, 12).map((s) => sampleToTrainRow(s)),
    )) as unknown as Row[];
    const cases: [string, number, string, (rs: Row[]) => void][] = [
      ['missing column', 0, 'solution', (rs) => rs.forEach((r) => delete r['solution'])],
      ['null cell', 2, 'problem', (rs) => (rs[2]!['problem'] = null)],
      [
        'undecodable image',
        1,
        'image',
        (rs) => (rs[1]!['image'] = { bytes: new Uint8Array([1, 2, 3, 4]), path: 'x.png' }),
      ],
      [
        'absurd image size',
        3,
        'image',
        (rs) =>
          (rs[3]!['image'] = { bytes: new Uint8Array(pngClaiming(70_000, 70_000)), path: 'x.png' }),
      ],
      [
        'invalid solution',
        2,
        'solution',
        (rs) => ((rs[2]!['solution'] = '<answer>[[[</answer>'), (rs[2]!['objects'] = null)),
      ],
    ];
    for (const [name, row, field, edit] of cases) {
      const bad = rows.map((r) => ({ ...r }));
      edit(bad);
      const file = join(dir, `${name.replace(/\W+/g, '-')}.parquet`);
      await writeParquetRows(file, 'train', bad);
      await assertFailsBeforeTraining(
        file,
        join(dir, `run-${name}`),
        new RegExp(`${name.replace(/\W+/g, '-')}\\.parquet: row ${row}: field "${field}"`),
      );
      if (name !== 'missing column')
        assert.equal((await readTrainingDataset(file, { skipBad: true })).bad, 1, name);
    }
    await writeParquetRows(join(dir, 'empty.parquet'), 'train', []);
    await assertFailsBeforeTraining(
      join(dir, 'empty.parquet'),
      join(dir, 'run-empty'),
      /empty\.parquet: no usable rows \(0 read, 0 bad\)/,
    );
  });
});

test('CLI: a bad row stops `visurf train` before training; --set data.skipBadRows=true trains on the rest and reports the count', async () => {
  await withTemp(async (dir) => {
    const { rows } = await goodJsonl(dir);
    const bad = rows.map((r) => structuredClone(r));
    delete bad[1]!['solution'];
    bad[3]!['problem'] = ['not', 'text'];
    const file = join(dir, 'mixed.jsonl');
    writeJsonl(file, bad);
    const base = [
      '--method',
      'sft',
      '--run-dir',
      join(dir, 'run'),
      ...tinySets(1).flatMap((s) => ['--set', s]),
      '--set',
      `data.path=${file}`,
    ];
    const r1 = trainCli(base);
    assert.equal(r1.status, 1);
    assert.match(
      r1.stderr,
      /visurf: .*mixed\.jsonl: row 1: field "solution": .*\(2 bad row\(s\) of 4; data\.skipBadRows=true skips and counts them\)/,
    );
    assert.ok(!existsSync(join(dir, 'run', 'metrics.jsonl')));
    const r2 = trainCli([...base, '--set', 'data.skipBadRows=true']);
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(r2.stderr, /mixed\.jsonl: 2 rows \(.*\); skipped 2 bad row\(s\) of 4/);
    assert.ok(existsSync(join(dir, 'run', 'metrics.jsonl')));
  });
});
