/** reward.module: a user's reward trains and evaluates; a reward that throws is counted, not fatal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../../src/train/trainer.js';
import { tinyConfig, withTemp } from '../reliability/helpers.js';
import { readStepLogs } from '../../src/train/step-log.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

// 1 point per reply that mentions the answer, as components; maxReward for rates
const MODULE = `export const maxReward = 2;
export default function reward(response, sample) {
  return { mentions: response.includes(sample.answer) ? 1 : 0, short: response.length < 20 ? 1 : 0 };
}
`;

test('a reward module replaces the built-in total in training and evaluation', async () => {
  await withTemp(async (dir) => {
    const mod = join(dir, 'my_reward.mjs');
    writeFileSync(mod, MODULE);
    // a constant reward the built-in verifiers never give (their total is a whole number ≥ 1 here)
    const flat = join(dir, 'flat_reward.mjs');
    writeFileSync(flat, 'export default () => 0.25;\n');
    const run = join(dir, 'run');
    const said: string[] = [];
    await train(tinyConfig(run, 2, ['method=rlvr', `reward.module=${flat}`]), {
      onMessage: (m) => said.push(m),
    });
    const steps = readStepLogs(join(run, 'metrics.jsonl'));
    for (const s of steps) assert.equal(s.rewardMean, 0.25);
    assert.ok(!said.some((m) => /reward module failed/.test(m)), said.join('\n'));
    const ev = JSON.parse(readFileSync(join(run, 'final.json'), 'utf8')) as {
      eval: { tasks: { reward: number }[] };
    };
    for (const t of ev.eval.tasks) assert.equal(t.reward, 0.25);
    // and on the command line
    const line = JSON.stringify({ task: 'count', response: '<answer>3</answer>', solution: '3' });
    const r = spawnSync(process.execPath, [MAIN, 'reward', '--module', mod], {
      input: `${line}\n`,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { total: number; maxTotal: number; components: object };
    assert.equal(o.total, 2);
    assert.equal(o.maxTotal, 2);
    assert.deepEqual(o.components, { mentions: 1, short: 1 });
  });
});

test('a reward module that throws scores 0 and is counted; the run goes on', async () => {
  await withTemp(async (dir) => {
    const mod = join(dir, 'bad_reward.mjs');
    writeFileSync(mod, 'export default () => { throw new Error("boom"); };\n');
    const said: string[] = [];
    const r = await train(
      tinyConfig(join(dir, 'run'), 2, ['method=rlvr', `reward.module=${mod}`]),
      {
        onMessage: (m) => said.push(m),
      },
    );
    assert.equal(r.steps, 2);
    assert.ok(
      said.some((m) =>
        /step 0: \d+ replies scored 0: the reward module failed \(first: .*threw: boom\)/.test(m),
      ),
      said.join('\n'),
    );
    const missing = join(dir, 'none.mjs');
    await assert.rejects(
      train(tinyConfig(join(dir, 'run2'), 1, [`reward.module=${missing}`])),
      /reward\.module: .*none\.mjs: cannot import/,
    );
  });
});
