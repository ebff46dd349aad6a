/**
 * Real crashes: a child process saves large checkpoints in a loop and is SIGKILLed at random
 * moments and at chosen save stages. After every kill the checkpoint must load completely and
 * consistently (every tensor from the same save), and must not go back past the last save the
 * child reported as finished.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  latestCheckpoint,
  loadCheckpoint,
  checkpointDirForStep,
} from '../../src/model/checkpoint.js';
import { randInt, rng, withTempDir } from './helpers.js';
import { sleep, spawnVictim } from './sigkill.js';

const checkpointModule = new URL('../../src/model/checkpoint.js', import.meta.url).href;
const atomicModule = new URL('../../src/model/atomic.js', import.meta.url).href;

/** Child: save tag START, START+1, ... forever, printing each stage and each finished save. */
const SAVER = `
const { saveCheckpoint } = await import(${JSON.stringify(checkpointModule)});
const n = Number(process.env.N);
const tagged = (tag) => {
  // Values stay exactly representable in bf16 (odd tags save bf16); adjacent saves differ.
  const x = tag % 100;
  const mk = (len) => { const d = new Float32Array(len); d.fill(x); d[0] = -x - 1; d[len - 1] = x + 0.5; return d; };
  return { 'big.w': { shape: [n], data: mk(n) }, 'mid.w': { shape: [n >> 2, 2], data: mk(n >> 1) }, 'tiny.b': { shape: [3], data: mk(3) } };
};
for (let tag = Number(process.env.START); ; tag++) {
  await saveCheckpoint(process.env.DIR, {
    weights: tagged(tag),
    config: { tag },
    optimizer: { step: tag, m: tagged(tag), v: tagged(tag) },
    trainerState: { tag },
  }, { dtype: tag % 2 ? 'bf16' : 'f32', onStage: (s) => process.stdout.write('stage ' + s + '\\n') });
  process.stdout.write('saved ' + tag + '\\n');
}
`;

function assertWholeSave(ck: Awaited<ReturnType<typeof loadCheckpoint>>): number {
  const tag = (ck.trainerState as { tag: number }).tag;
  assert.equal((ck.config as { tag: number }).tag, tag);
  assert.equal(ck.optimizer!.step, tag);
  assert.equal(ck.dtype, tag % 2 ? 'bf16' : 'f32');
  const x = tag % 100;
  for (const group of [ck.weights, ck.optimizer!.m, ck.optimizer!.v]) {
    for (const [name, t] of Object.entries(group)) {
      const d = t.data;
      assert.equal(d[0], -x - 1, name);
      assert.equal(d[d.length - 1], x + 0.5, name);
      for (let i = 1; i < d.length - 1; i++)
        if (d[i] !== x) assert.fail(`${name}[${i}] = ${d[i]} in save ${tag}`);
    }
  }
  return tag;
}

test(
  'SIGKILL during repeated checkpoint saves never leaves a partial checkpoint',
  { timeout: 60_000 },
  async () => {
    await withTempDir(async (runDir) => {
      const dir = checkpointDirForStep(runDir, 1);
      const r = rng(2024);
      // Kill points: at a random time, or just after a given stage is reported.
      const plan: (string | number)[] = [
        5, // before the first save can finish: nothing or a whole checkpoint, never a part
        'model-written',
        'optimizer-written',
        'marker-written',
        'old-moved-aside',
        'new-renamed',
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1, // random delay after the first finished save
      ];
      let lastLoaded: number | undefined;
      const summary: string[] = [];
      for (let round = 0; round < plan.length; round++) {
        const start = (round + 1) * 1000;
        const v = spawnVictim(SAVER, { DIR: dir, START: String(start), N: String(1 << 19) });
        const p = plan[round]!;
        if (typeof p === 'string') {
          await v.waitFor((l) => l === `stage ${p}` && v.lines.some((x) => x.startsWith('saved ')));
        } else if (p === -1) {
          await v.waitFor((l) => l.startsWith('saved '));
          await sleep(randInt(r, 250));
        } else {
          await sleep(p);
        }
        await v.kill();
        const saved = v.lines.filter((l) => l.startsWith('saved ')).map((l) => Number(l.slice(6)));
        const lastSaved = saved.length ? saved[saved.length - 1]! : undefined;

        const latest = await latestCheckpoint(runDir);
        if (latest === undefined) {
          assert.equal(lastLoaded, undefined, 'a checkpoint that existed must not disappear');
          assert.equal(lastSaved, undefined, 'a finished save must be visible');
          summary.push(`kill@${p}: none yet`);
          continue;
        }
        assert.equal(latest.path, dir);
        const tag = assertWholeSave(await loadCheckpoint(dir));
        // Either the last finished save, or the one in flight when the kill landed.
        const allowed =
          lastSaved !== undefined
            ? [lastSaved, lastSaved + 1]
            : [start, ...(lastLoaded !== undefined ? [lastLoaded] : [])];
        assert.ok(
          allowed.includes(tag),
          `kill@${p}: loaded save ${tag}, expected one of ${allowed}`,
        );
        lastLoaded = tag;
        const lastStage = [...v.lines]
          .reverse()
          .find((l) => l.startsWith('stage '))
          ?.slice(6);
        summary.push(
          `kill@${p}: ${saved.length} saves done, last stage seen ${lastStage}, loaded ${tag}`,
        );
      }
      console.log(summary.join('\n'));
      // Only the checkpoint and (possibly) debris of the last killed save may remain.
      const left = await readdir(join(runDir, 'checkpoints'));
      assert.ok(left.includes('step-000001'));
      assert.ok(left.length <= 3, `debris accumulates: ${left}`);
    });
  },
);

/** Child: atomically rewrite one file with all-'A' or all-'B' content, forever. */
const WRITER = `
const { writeFileAtomic } = await import(${JSON.stringify(atomicModule)});
const a = Buffer.alloc(1 << 21, 65), b = Buffer.alloc(1 << 21, 66);
for (let i = 0; ; i++) { await writeFileAtomic(process.env.FILE, i % 2 ? b : a); if (i === 0) process.stdout.write('first\\n'); }
`;

test(
  'SIGKILL during writeFileAtomic leaves the old or the new file, never a mix',
  { timeout: 30_000 },
  async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'state.bin');
      const r = rng(7);
      for (let round = 0; round < 5; round++) {
        const v = spawnVictim(WRITER, { FILE: file });
        await v.waitFor((l) => l === 'first');
        await sleep(randInt(r, 100));
        await v.kill();
        const data = await readFile(file);
        assert.equal(data.length, 1 << 21);
        const c = data[0]!;
        assert.ok(c === 65 || c === 66);
        assert.equal(data.indexOf(c === 65 ? 66 : 65), -1, 'mixed content');
      }
    });
  },
);
