/** `compare` never reports a run trained with other settings, and checks every config first. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, parseCompareConfig } from '../../src/experiment/compare.js';

const shared = {
  data: { tasks: ['colorqa'] },
  noThink: true,
  promptsPerStep: 2,
  rollout: { groupSize: 2, maxNewTokens: 4 },
  eval: { size: 2 },
  steps: 2,
};

function config(root: string, extra: Record<string, unknown>, train = {}) {
  return parseCompareConfig(
    {
      base: 'tiny-base',
      out: join(root, 'cmp'),
      methods: ['sft'],
      forgetting: [],
      evalSize: 2,
      isolate: false,
      train: { ...shared, ...train },
      ...extra,
    },
    'test',
  );
}

async function withRoot(fn: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'visurf-stale-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('a rerun with a changed setting sets the old run aside and trains afresh; reuseStale keeps it', async () => {
  await withRoot(async (root) => {
    const { train } = await import('../../src/train/trainer.js');
    const { parseTrainConfig } = await import('../../src/train/config.js');
    await train(
      parseTrainConfig({
        ...shared,
        method: 'sft',
        runDir: join(root, 'b'),
        model: { init: 'tiny' },
      }),
    );
    const base = join(root, 'b', 'checkpoints', 'step-000002');
    const runs = join(root, 'cmp', 'runs');
    await compare(config(root, { base }), 'test');
    const said: string[] = [];
    await compare(config(root, { base }, { optim: { lr: 0.01 } }), 'test', {
      onMessage: (m) => said.push(m),
    });
    assert.ok(
      said.some((m) =>
        /sft was trained with another config \(optim\.lr 0\.0001 -> 0\.01\); kept as .*sft\.stale-/.test(
          m,
        ),
      ),
      said.join('\n'),
    );
    assert.equal(readdirSync(runs).filter((e) => e.startsWith('sft.stale-')).length, 1);
    const cfgNow = JSON.parse(readFileSync(join(runs, 'sft', 'config.json'), 'utf8')) as {
      optim: { lr: number };
    };
    assert.equal(cfgNow.optim.lr, 0.01, 'the reported run is the one with the new setting');
    const reused: string[] = [];
    await compare(config(root, { base, reuseStale: true }, { optim: { lr: 0.02 } }), 'test', {
      onMessage: (m) => reused.push(m),
    });
    assert.ok(
      reused.some((m) => /reused although its config differs/.test(m)),
      reused.join('\n'),
    );
    assert.equal(readdirSync(runs).filter((e) => e.startsWith('sft.stale-')).length, 1);
  });
});

test('every method config is checked before the first run starts', async () => {
  await withRoot(async (root) => {
    await assert.rejects(
      compare(config(root, { base: 'base', methods: ['sft', 'rlvr', 'sft-rlvr'] }), 'test'),
      /sft-rlvr needs 0 < sftSteps < steps/,
    );
    assert.ok(!existsSync(join(root, 'cmp', 'runs')), 'nothing was trained');
  });
});
