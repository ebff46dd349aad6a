/**
 * `data.valPath`: a run evaluates on a validation file's rows (at their own resolution, answers
 * mapped back) instead of its training tasks' generated sets; extra tasks stay generated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDataset } from '../../src/data/index.js';
import { evaluateDataset } from '../../src/eval/dataset-eval.js';
import { TINY_CONFIG, VisionLanguageModel } from '../../src/model/index.js';
import { generateSample } from '../../src/tasks/index.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { buildEvalSuite, evalOptionsOf, runEvalSuite } from '../../src/train/eval-suite.js';
import { train } from '../../src/train/trainer.js';

const rowsAt = (w: number, h: number, n: number) =>
  Array.from({ length: n }, (_, k) => generateSample('refer', 40 + k, { width: w, height: h }));

test('the suite of a validation file scores its rows as eval --data does; extra tasks stay generated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'visurf-val-'));
  try {
    const file = join(dir, 'val.jsonl');
    const rows = rowsAt(40, 24, 5);
    await writeDataset(file, rows);
    const cfg = parseTrainConfig({
      data: { tasks: ['colorqa'], valPath: file },
      eval: { size: 4, extraTasks: ['count'] },
    });
    const suite = await buildEvalSuite(cfg, TINY_CONFIG);
    assert.equal(suite.file?.samples.length, 4, 'the first eval.size rows');
    assert.deepEqual([...suite.generated.keys()], ['count'], 'colorqa replaced, count kept');
    assert.match(suite.notice, /4 rows \(refer; 40x24\), each image resized to 16x16/);
    assert.ok(suite.heldBytes >= 4 * (40 * 24 * 3 + 16 * 16 * 3));
    const model = VisionLanguageModel.create(TINY_CONFIG, 5);
    const o = evalOptionsOf(cfg, TINY_CONFIG);
    const log = runEvalSuite(model, suite, o, 7);
    assert.deepEqual(
      log.tasks.map((t) => [t.task, t.n]),
      [
        ['refer', 4],
        ['count', 4],
      ],
    );
    const direct = await evaluateDataset(model, rows.slice(0, 4), o);
    assert.deepEqual(log.tasks[0], direct.tasks[0]);

    // a file whose rows are all bad is an error naming the field, not an empty evaluation
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"id": "x", "problem": "p"}\n');
    await assert.rejects(
      buildEvalSuite(parseTrainConfig({ data: { valPath: bad } }), TINY_CONFIG),
      /bad\.jsonl: row 0: field "image"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train with data.valPath evaluates on the file at every eval and at the end', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'visurf-valrun-'));
  try {
    const file = join(dir, 'val.jsonl');
    await writeDataset(file, rowsAt(32, 32, 3));
    const said: string[] = [];
    const cfg = parseTrainConfig({
      method: 'sft',
      runDir: join(dir, 'run'),
      model: { init: 'tiny' },
      data: { tasks: ['colorqa'], valPath: file },
      steps: 2,
      promptsPerStep: 2,
      eval: { every: 1, size: 8 },
      log: { completionsEvery: 0 },
    });
    await train(cfg, { onMessage: (m) => said.push(m) });
    assert.ok(
      said.some((m) => /evaluating on .*val\.jsonl: 3 rows/.test(m)),
      said.join('\n'),
    );
    const evals = readFileSync(join(dir, 'run', 'eval.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; tasks: { task: string; n: number }[] });
    assert.deepEqual(
      evals.map((e) => [e.step, e.tasks.map((t) => `${t.task}:${t.n}`).join(',')]),
      [
        [1, 'refer:3'],
        [2, 'refer:3'],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare with data.valPath evaluates the base and every run on the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'visurf-valcmp-'));
  try {
    const file = join(dir, 'val.jsonl');
    await writeDataset(file, rowsAt(24, 24, 2));
    const shared = {
      data: { tasks: ['colorqa'], valPath: file },
      promptsPerStep: 2,
      steps: 2,
      log: { completionsEvery: 0 },
    };
    await train(
      parseTrainConfig({
        ...shared,
        method: 'sft',
        runDir: join(dir, 'b'),
        model: { init: 'tiny' },
      }),
    );
    const { compare, parseCompareConfig } = await import('../../src/experiment/compare.js');
    const said: string[] = [];
    const results = await compare(
      parseCompareConfig(
        {
          base: join(dir, 'b', 'checkpoints', 'step-000002'),
          out: join(dir, 'cmp'),
          methods: ['sft'],
          forgetting: ['count'],
          evalSize: 2,
          evalPoints: 0,
          isolate: false,
          train: shared,
        },
        'test',
      ),
      'test',
      { onMessage: (m) => said.push(m) },
    );
    assert.ok(
      said.some((m) => /evaluating on .*val\.jsonl: 2 rows/.test(m)),
      said.join('\n'),
    );
    const names = (e: { tasks: { task: string; n: number }[] }) =>
      e.tasks.map((t) => `${t.task}:${t.n}`).join(',');
    assert.equal(names(results.base.eval), 'refer:2,count:2');
    assert.equal(names(results.methods[0]!.eval), 'refer:2,count:2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
