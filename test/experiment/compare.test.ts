/** `compare` end to end on the tiny model: every method trained from one base, evaluated, tabled. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, parseCompareConfig } from '../../src/experiment/compare.js';
import { loadCompare } from '../../src/report/load.js';
import { formatText, resultsText } from '../../src/report/tables.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';

test('compare trains each method from the base under one budget and writes the paper-shaped tables', async () => {
  const root = await mkdtemp(join(tmpdir(), 'visurf-compare-'));
  try {
    const shared = {
      data: { tasks: ['colorqa'] },
      noThink: true,
      promptsPerStep: 4,
      rollout: { groupSize: 4, maxNewTokens: 6 },
      eval: { size: 4 },
    };
    await train(
      parseTrainConfig({
        ...shared,
        method: 'sft',
        runDir: join(root, 'base'),
        model: { init: 'tiny' },
        steps: 2,
      }),
    );
    const cfg = parseCompareConfig(
      {
        base: join(root, 'base', 'checkpoints', 'step-000002'),
        out: join(root, 'cmp'),
        methods: ['sft', 'rlvr', 'sft-rlvr', 'visurf'],
        ablations: true,
        forgetting: ['shapeqa'],
        evalSize: 4,
        passAtK: { tasks: ['colorqa'], size: 2, n: 2, ks: [1, 2] },
        train: { ...shared, steps: 50, budgetTokens: 3000 },
      },
      'test',
    );
    const r = await compare(cfg, 'visurf compare (test)');
    assert.deepEqual(
      r.methods.map((m) => m.name),
      [
        'sft',
        'rlvr',
        'sft-rlvr',
        'visurf',
        'visurf-no-align',
        'visurf-no-think-elim',
        'visurf-no-smooth',
      ],
    );
    for (const m of r.methods) {
      // The budget, not the step limit, ended training: spent >= budget, one step over at most.
      const spent = m.cost.generatedTokens + m.cost.trainedTokens;
      assert.ok(
        spent >= 3000 && m.cost.steps < 50,
        `${m.name}: ${spent} tokens in ${m.cost.steps} steps`,
      );
      assert.deepEqual(
        m.eval.tasks.map((t) => t.task),
        ['colorqa', 'shapeqa'],
      );
      assert.ok(m.passAtK?.colorqa?.['2'] !== undefined);
    }
    assert.equal(
      r.methods.find((m) => m.name === 'sft')!.cost.generatedTokens,
      0,
      'SFT generates nothing',
    );
    const data = loadCompare(join(root, 'cmp'));
    const table = resultsText(data);
    assert.deepEqual(
      table.rows.map((row) => row[0]),
      ['base', ...r.methods.map((m) => m.name)],
    );
    // the format table: one row per method, one column per task, each cell the formatRate in %
    const formats = formatText(data);
    assert.deepEqual(formats.headers, ['method', 'colorqa', 'shapeqa']);
    const sft = r.methods.find((m) => m.name === 'sft')!;
    assert.equal(
      formats.rows.find((row) => row[0] === 'sft')![1],
      (100 * sft.eval.tasks[0]!.formatRate).toFixed(1),
    );
    const md = await readFile(join(root, 'cmp', 'results.md'), 'utf8');
    assert.match(md, /\| visurf-no-smooth \|/);
    assert.match(md, /Training cost/);
    assert.match(md, /## Reply format/);
    const json = JSON.parse(await readFile(join(root, 'cmp', 'results.json'), 'utf8'));
    assert.equal(json.version, 1);
    assert.equal(json.methods.length, 7);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
