/**
 * The up-front memory check (src/train/resources.ts): the estimate is compared with the measured
 * peak RSS of real runs, and configs that cannot fit are refused before the first step with the
 * estimate and a setting that fits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NAMED_CONFIGS, VisionLanguageModel } from '../../src/model/index.js';
import { applyOverrides, parseTrainConfig } from '../../src/train/config.js';
import {
  BUDGET_ENV,
  ResourceError,
  SAFETY_FRACTION,
  availableMemory,
  checkResources,
  estimateMemory,
  modelParameterCount,
} from '../../src/train/resources.js';
import { train } from '../../src/train/trainer.js';
import { tinyConfig, trainCli, withTemp } from './helpers.js';
import { readStepLogs } from '../../src/train/step-log.js';

const cfgOf = (sets: string[]) => parseTrainConfig(applyOverrides({}, sets), 'test');
const MB = 2 ** 20;

test('parameter count of every named model config matches the model', () => {
  for (const [name, c] of Object.entries(NAMED_CONFIGS)) {
    assert.equal(modelParameterCount(c), VisionLanguageModel.create(c, 0).parameterCount(), name);
  }
});

test('the estimate grows with batch and shrinks with micro-batching; available memory is sane', () => {
  const base = ['model.init=small', 'promptsPerStep=8', 'rollout.groupSize=8'];
  const e0 = estimateMemory(cfgOf(base), NAMED_CONFIGS['small']!);
  const eBig = estimateMemory(cfgOf([...base, 'promptsPerStep=16']), NAMED_CONFIGS['small']!);
  const eMicro = estimateMemory(cfgOf([...base, 'microBatch=8']), NAMED_CONFIGS['small']!);
  assert.ok(eBig.total > e0.total && eMicro.total < e0.total);
  assert.equal(eMicro.microBatchSequences, 8);
  assert.equal(e0.rolloutSequences, 64);
  // bf16 products keep a bf16 KV cache: half the bytes
  const eBf16 = estimateMemory(cfgOf([...base, 'model.precision=bf16']), NAMED_CONFIGS['small']!);
  assert.equal(eBf16.kvCache * 2, e0.kvCache);
  const a = availableMemory({});
  assert.ok(a.bytes > 64 * MB && Number.isFinite(a.bytes), `${a.bytes} from ${a.source}`);
  assert.equal(availableMemory({ [BUDGET_ENV]: '512' }).bytes, 512 * MB);
  assert.throws(() => availableMemory({ [BUDGET_ENV]: 'lots' }), /expected a positive number/);
});

// Measured peak RSS over a few real steps vs the estimate; the documented factor is 2 either way.
const MEASURED: string[][] = [
  ['promptsPerStep=2', 'rollout.groupSize=4'],
  ['promptsPerStep=16', 'rollout.groupSize=8'],
  ['promptsPerStep=16', 'rollout.groupSize=8', 'microBatch=16'],
];

test(
  `estimate is within 2x (under) to 2.5x (over) of the measured peak RSS of ${MEASURED.length} real runs`,
  { timeout: 120_000 },
  async () => {
    await withTemp(async (tmp) => {
      const rows: string[] = [];
      for (const [i, extra] of MEASURED.entries()) {
        const sets = ['model.init=tiny', 'steps=4', 'eval.size=2', 'data.tasks=[refer]', ...extra];
        const dir = join(tmp, `m${i}`);
        const r = trainCli([
          '--method',
          'visurf',
          '--run-dir',
          dir,
          ...sets.flatMap((s) => ['--set', s]),
        ]);
        assert.equal(r.status, 0, r.stderr);
        const peak = Math.max(...readStepLogs(join(dir, 'metrics.jsonl')).map((s) => s.peakRssMb));
        const est = estimateMemory(cfgOf(sets), NAMED_CONFIGS['tiny']!).total / MB;
        rows.push(
          `${extra.join(' ')}: estimate ${est.toFixed(0)} MB, measured ${peak} MB (x${(peak / est).toFixed(2)})`,
        );
        // Under-estimates are what matter (a refused run is better than an OOM): at most 2x under;
        // the estimate may be up to 2.5x over, since the backward pass recycles gradient buffers.
        assert.ok(peak <= 2 * est && peak >= est / 2.5, rows.at(-1));
      }
      console.log(`memory estimate vs peak RSS: ${rows.join('; ')}`);
    });
  },
);

test('an absurd config (bench model, promptsPerStep=100000) is refused up front with the estimate and a suggestion that fits', async () => {
  await withTemp(async (dir) => {
    const t0 = performance.now();
    const r = trainCli(
      [
        '--method',
        'visurf',
        '--run-dir',
        dir,
        '--set',
        'model.init=bench',
        '--set',
        'promptsPerStep=100000',
      ],
      { [BUDGET_ENV]: '4096' },
    );
    const ms = performance.now() - t0;
    assert.equal(r.status, 1, r.stderr);
    const m =
      /visurf: not enough memory for this config: estimated peak ([\d.]+) (GiB|MiB), reached during the \w+ .*KV cache .* for 800000 rollouts.*only 4\.00 GiB is available \(VISURF_MEMORY_BUDGET_MB=4096.*Try --set promptsPerStep=(\d+) --set microBatch=(\d+)\./.exec(
        r.stderr,
      );
    assert.ok(m, r.stderr);
    assert.ok(m[2] === 'GiB' && Number(m[1]) > 1000, 'the estimate is in the TiB range');
    assert.ok(
      !existsSync(join(dir, 'metrics.jsonl')) && !existsSync(join(dir, 'checkpoints')),
      'nothing ran',
    );
    assert.ok(ms < 30_000, `refusal took ${ms} ms`);
    // The suggestion fits the budget, and one more prompt per step would not.
    const p = Number(m[3]);
    const fit = (prompts: number) =>
      estimateMemory(
        cfgOf(['model.init=bench', `promptsPerStep=${prompts}`, `microBatch=${m[4]}`]),
        NAMED_CONFIGS['bench']!,
      ).total <=
      4096 * MB * SAFETY_FRACTION;
    assert.ok(p >= 1 && fit(p) && !fit(p + 1), `promptsPerStep=${p}`);
  });
});

test('a batch too large for the budget suggests the largest micro-batch that fits; train() refuses before any step', async () => {
  await withTemp(async (dir) => {
    const sets = ['model.init=tiny', 'promptsPerStep=16', 'rollout.groupSize=8'];
    const cfg = cfgOf(sets);
    const full = estimateMemory(cfg, NAMED_CONFIGS['tiny']!).total;
    const budgetMb = Math.floor((0.8 * full) / SAFETY_FRACTION / MB);
    const env = { [BUDGET_ENV]: String(budgetMb) };
    const err = (() => {
      try {
        checkResources(cfg, NAMED_CONFIGS['tiny']!, env);
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof ResourceError, String(err));
    const mb = Number(/^--set microBatch=(\d+)$/.exec(err.suggestion)?.[1]);
    const est = (n: number) =>
      estimateMemory(cfgOf([...sets, `microBatch=${n}`]), NAMED_CONFIGS['tiny']!).total;
    const budget = budgetMb * MB * SAFETY_FRACTION;
    assert.ok(mb >= 1 && est(mb) <= budget, err.suggestion);
    for (let n = mb + 1; n <= 16 * 8; n++)
      assert.ok(est(n) > budget, `microBatch=${n} would fit too`);
    assert.equal(
      checkResources(cfgOf([...sets, `microBatch=${mb}`]), NAMED_CONFIGS['tiny']!, env)
        .microBatchSequences,
      mb,
    );
    // Through the trainer: refused before the first step.
    process.env[BUDGET_ENV] = String(budgetMb);
    try {
      await assert.rejects(
        train(tinyConfig(dir, 2, ['promptsPerStep=16', 'rollout.groupSize=8'])),
        ResourceError,
      );
    } finally {
      delete process.env[BUDGET_ENV];
    }
    assert.ok(!existsSync(join(dir, 'metrics.jsonl')));
  });
});

test('a dataset is counted in the estimate: its rows at the model input size, and the refusal says so', async () => {
  const { estimateMemory, checkResources, datasetSampleBytes } =
    await import('../../src/train/resources.js');
  const { SMALL_CONV_CONFIG } = await import('../../src/model/index.js');
  const { parseTrainConfig } = await import('../../src/train/config.js');
  const cfg = parseTrainConfig({ method: 'sft' });
  const without = estimateMemory(cfg, SMALL_CONV_CONFIG);
  const withRows = estimateMemory(cfg, SMALL_CONV_CONFIG, 100_000);
  // 64 px: 3 · 4096 image bytes + a 4096-byte mask + 1 KB per sample
  assert.equal(datasetSampleBytes(SMALL_CONV_CONFIG), 3 * 4096 + 4096 + 1024);
  assert.equal(withRows.dataset, 100_000 * (3 * 4096 + 4096 + 1024));
  assert.equal(withRows.total - without.total, withRows.dataset);
  assert.throws(
    () => checkResources(cfg, SMALL_CONV_CONFIG, { VISURF_MEMORY_BUDGET_MB: '2048' }, 1_000_000),
    /\+ dataset 16\.\d+ GiB/,
  );
});

test('countDatasetRows reads a Parquet footer or counts JSONL lines', async () => {
  const { countDatasetRows, writeDataset } = await import('../../src/data/index.js');
  const { generateSamples } = await import('../../src/tasks/index.js');
  await withTemp(async (dir) => {
    const samples = generateSamples('count', 5, 0);
    for (const ext of ['parquet', 'jsonl']) {
      const path = join(dir, `d.${ext}`);
      await writeDataset(path, samples);
      assert.equal(await countDatasetRows(path), 5, ext);
    }
    assert.equal(await countDatasetRows(join(dir, 'missing.parquet')), 0);
  });
});
