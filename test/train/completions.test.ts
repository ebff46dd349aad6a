/** completions.jsonl: the step's prompts, replies, rewards and advantages, every N steps, exact on resume. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';
import { tinyConfig, withTemp } from '../reliability/helpers.js';

const read = (dir: string) =>
  readFileSync(join(dir, 'completions.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('completions every N steps: rollouts with rewards and advantages, the label; resumed exactly', async () => {
  await withTemp(async (tmp) => {
    const extra = ['log.completionsEvery=2', 'log.completionsPerStep=2', 'rollout.groupSize=3'];
    await train(tinyConfig(join(tmp, 'ref'), 5, extra));
    const lines = read(join(tmp, 'ref'));
    assert.deepEqual(
      lines.map((l) => l['step']),
      [0, 0, 2, 2, 4, 4],
    );
    const first = lines[0] as {
      prompt: string;
      solution: string;
      rollouts: { response: string; reward: number; advantage: number }[];
      label: { response: string; advantage: number };
    };
    assert.equal(first.rollouts.length, 3);
    for (const r of first.rollouts) {
      assert.equal(typeof r.response, 'string');
      assert.ok(Number.isFinite(r.reward) && Number.isFinite(r.advantage));
    }
    assert.match(first.label.response, /<answer>/, 'ViSurf trains on the label');
    assert.ok(first.prompt.length > 0 && first.solution.length > 0);
    // a crash after step 2 and a resume write the same file
    const dir = join(tmp, 'run');
    await assert.rejects(
      train(tinyConfig(dir, 5, extra), {
        afterStep: (s) => {
          if (s === 2) throw new Error('crash');
        },
      }),
    );
    await train(tinyConfig(dir, 5, extra));
    assert.deepEqual(read(dir), lines);
  });
});
