/** `data.columns`: a file with its own column names reads as the layout's; errors name its columns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset, renameColumns, writeDataset } from '../../src/data/index.js';
import { generateSample } from '../../src/tasks/index.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { parseColumnsFlag } from '../../src/cli/columns-flag.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
const MAP = { image: 'img', problem: 'question', solution: 'label' };

/** A JSONL file of the training layout, its columns renamed as an EasyR1 user's might be. */
async function renamedFile(dir: string): Promise<{ plain: string; renamed: string }> {
  const plain = join(dir, 'plain.jsonl');
  await writeDataset(
    plain,
    [1, 2, 3].map((k) => generateSample('refer', k, { width: 32, height: 24 })),
  );
  const renamed = join(dir, 'renamed.jsonl');
  const lines = readFileSync(plain, 'utf8').trim().split('\n');
  writeFileSync(
    renamed,
    lines
      .map((l) => {
        const r = JSON.parse(l) as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) out[(MAP as Record<string, string>)[k] ?? k] = v;
        return JSON.stringify(out);
      })
      .join('\n') + '\n',
  );
  return { plain, renamed };
}

test('renameColumns: mapped columns take the layout names; a shadowed file column is dropped', () => {
  assert.deepEqual(
    renameColumns({ question: 'q', problem: 'other', img: 'a.png', extra: 1 }, MAP),
    { extra: 1, image: 'a.png', problem: 'q' },
  );
  assert.deepEqual(renameColumns({ a: 1 }, {}), { a: 1 });
});

test('a renamed file reads to the same samples with data.columns; bad rows name the file column', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'visurf-columns-'));
  try {
    const { plain, renamed } = await renamedFile(dir);
    const want = await readDataset(plain);
    const got = await readDataset(renamed, { columns: MAP });
    assert.deepEqual(
      got.samples.map((s) => [s.id, s.prompt, s.solution, s.image.width]),
      want.samples.map((s) => [s.id, s.prompt, s.solution, s.image.width]),
    );
    await assert.rejects(
      readDataset(renamed),
      /match neither layout.*data\.columns maps other names/,
    );
    // row 1's question is a number: the error names "question", the user's column
    const lines = readFileSync(renamed, 'utf8').trim().split('\n');
    const bad = JSON.parse(lines[1]!) as Record<string, unknown>;
    bad.question = 7;
    lines[1] = JSON.stringify(bad);
    const badFile = join(dir, 'bad.jsonl');
    writeFileSync(badFile, lines.join('\n') + '\n');
    await assert.rejects(
      readDataset(badFile, { columns: MAP }),
      /bad\.jsonl: row 1: field "question"/,
    );

    // data check with --columns runs the same read; a wrong layout name gets a suggestion
    const ok = run([
      'data',
      'check',
      renamed,
      '--columns',
      'image=img,problem=question,solution=label',
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /ok, 3 rows, layout train/);
    const typo = run(['data', 'check', renamed, '--columns', 'probem=question']);
    assert.equal(typo.status, 1);
    assert.match(
      typo.stderr,
      /--columns: "probem" is not a layout column \(did you mean "problem"\?\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data.columns in a config: unknown layout columns and two names for one column are errors', () => {
  assert.throws(
    () => parseTrainConfig({ data: { columns: { imgae: 'img' } } }),
    /data\.columns: "imgae" is not a layout column \(did you mean "image"\?\)/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { columns: { problem: 'q', text: 'q' } } }),
    /data\.columns: "problem" and "text" both read column "q"/,
  );
  assert.deepEqual(parseColumnsFlag('problem=question, image=img'), {
    problem: 'question',
    image: 'img',
  });
  assert.throws(() => parseColumnsFlag('problem'), /expected layout=column pairs/);
});
