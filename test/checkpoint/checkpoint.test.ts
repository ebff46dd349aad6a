import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckpointError,
  SAVE_STAGES,
  checkpointDirForStep,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
  type SaveStage,
} from '../../src/model/checkpoint.js';
import { sha256Hex } from '../../src/model/checkpoint-manifest.js';
import { writeSafetensors, type TensorInput } from '../../src/model/safetensors.js';
import { roundToBf16 } from '../../src/model/safetensors-dtype.js';
import {
  assertRejectsCheckpointError,
  bitsOf,
  rng,
  taggedWeights,
  withTempDir,
} from './helpers.js';

const SHAPES = { 'enc.w': [4, 6], 'dec.b': [6], 'head.w': [6, 3] };

function makeCheckpoint(tag: number, withOptimizer = true): Checkpoint {
  const weights = taggedWeights(tag, SHAPES);
  const ck: Checkpoint = {
    weights,
    config: { name: 'tiny', dim: 6, tag },
    tokenizer: { kind: 'bytes', special: ['<image>', '</answer>'] },
    trainerState: { tag, step: tag * 10, rng: [1, 2, 3, 4], cursor: { epoch: 0, index: 17 } },
  };
  if (withOptimizer) {
    ck.optimizer = {
      step: tag * 10,
      m: taggedWeights(tag + 0.5, SHAPES),
      v: taggedWeights(tag + 0.75, SHAPES),
    };
  }
  return ck;
}

/** Every tensor of a loaded checkpoint must carry the same tag as its trainer state. */
function assertConsistent(ck: Awaited<ReturnType<typeof loadCheckpoint>>): number {
  const tag = (ck.trainerState as { tag: number }).tag;
  assert.equal((ck.config as { tag: number }).tag, tag);
  const want = taggedWeights(tag, SHAPES);
  for (const [k, t] of Object.entries(want))
    assert.deepEqual([...ck.weights[k]!.data], [...t.data], `weight ${k} of tag ${tag}`);
  if (ck.optimizer) {
    assert.equal(ck.optimizer.step, tag * 10);
    const m = taggedWeights(tag + 0.5, SHAPES);
    for (const [k, t] of Object.entries(m))
      assert.deepEqual([...ck.optimizer.m[k]!.data], [...t.data]);
  }
  return tag;
}

test('save -> load is identical (f32), files and layout as documented, no leftovers', async () => {
  await withTempDir(async (root) => {
    const r = rng(3);
    const ck = makeCheckpoint(1);
    // Random bit patterns too, not just nice numbers.
    ck.weights['enc.w']!.data = Float32Array.from({ length: 24 }, () => (r() - 0.5) * 1e-3);
    const dir = join(root, 'ckpt');
    await saveCheckpoint(dir, ck, { dtype: 'f32' });
    assert.deepEqual((await readdir(dir)).sort(), [
      'COMPLETE',
      'config.json',
      'model.safetensors',
      'optimizer.safetensors',
      'tokenizer.json',
      'trainer_state.json',
    ]);
    assert.deepEqual(await readdir(root), ['ckpt']);
    const back = await loadCheckpoint(dir);
    assert.equal(back.dtype, 'f32');
    for (const [k, t] of Object.entries(ck.weights)) {
      assert.deepEqual(back.weights[k]!.shape, t.shape);
      assert.deepEqual(bitsOf(back.weights[k]!.data), bitsOf(t.data));
    }
    assert.deepEqual(back.config, ck.config);
    assert.deepEqual(back.tokenizer, ck.tokenizer);
    assert.deepEqual(back.trainerState, ck.trainerState);
    assert.equal(back.optimizer!.step, 10);
    for (const [k, t] of Object.entries(ck.optimizer!.v))
      assert.deepEqual(bitsOf(back.optimizer!.v[k]!.data), bitsOf(t.data));
    // The optimizer file is a plain safetensors file with m./v. names and the step in metadata.
    const opt = await readFile(join(dir, 'optimizer.safetensors'));
    const header = opt.subarray(8, 8 + Number(opt.readBigUInt64LE(0))).toString();
    assert.match(header, /"__metadata__":\{"optimizer":"adam","step":"10"\}/);
    assert.match(header, /"m\.dec\.b":\{"dtype":"F32"/);

    // Minimal checkpoint: optional parts absent stay absent.
    const dir2 = join(root, 'min');
    await saveCheckpoint(dir2, { weights: ck.weights, config: { a: 1 } }, { dtype: 'f32' });
    const min = await loadCheckpoint(dir2);
    assert.ok(!('optimizer' in min) && !('tokenizer' in min) && !('trainerState' in min));
  });
});

test('bf16 weights load as round-to-nearest-even of the input; optimizer stays exact f32', async () => {
  await withTempDir(async (root) => {
    const ck = makeCheckpoint(2);
    const r = rng(4);
    for (const t of Object.values(ck.weights))
      for (let i = 0; i < t.data.length; i++) t.data[i] = (r() - 0.5) * 3;
    await saveCheckpoint(join(root, 'c'), ck, { dtype: 'bf16' });
    const back = await loadCheckpoint(join(root, 'c'));
    assert.equal(back.dtype, 'bf16');
    for (const [k, t] of Object.entries(ck.weights)) {
      assert.equal(back.weights[k]!.dtype, 'BF16');
      assert.deepEqual(bitsOf(back.weights[k]!.data), bitsOf(roundToBf16(t.data)));
    }
    for (const [k, t] of Object.entries(ck.optimizer!.m))
      assert.deepEqual(bitsOf(back.optimizer!.m[k]!.data), bitsOf(t.data));
  });
});

test('replacing an existing checkpoint leaves only the new one', async () => {
  await withTempDir(async (root) => {
    const dir = join(root, 'c');
    await saveCheckpoint(dir, makeCheckpoint(1), { dtype: 'f32' });
    await saveCheckpoint(dir, makeCheckpoint(2), { dtype: 'bf16' });
    assert.equal(assertConsistent(await loadCheckpoint(dir)), 2);
    assert.deepEqual(await readdir(root), ['c']);
  });
});

/** Rewrite one file of a checkpoint and fix up the manifest, as a consistent hand edit would. */
async function tamper(dir: string, file: string, bytes: Uint8Array | string | null): Promise<void> {
  const manifestPath = join(dir, 'COMPLETE');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  if (bytes === null) {
    await rm(join(dir, file));
    return;
  }
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  await writeFile(join(dir, file), b);
  manifest.files[file] = { bytes: b.byteLength, sha256: sha256Hex(b) };
  await writeFile(manifestPath, JSON.stringify(manifest));
}

test('load rejects missing, malformed and inconsistent files with clear errors', async () => {
  await withTempDir(async (root) => {
    const fresh = async (name: string, ck = makeCheckpoint(1)) => {
      const dir = join(root, name);
      await saveCheckpoint(dir, ck, { dtype: 'f32' });
      return dir;
    };
    const w = makeCheckpoint(1).weights;
    const optBytes = (
      m: Record<string, TensorInput>,
      v = m,
      meta: Record<string, string> = { step: '10' },
    ) => {
      const t: Record<string, TensorInput> = {};
      for (const [k, x] of Object.entries(m)) t[`m.${k}`] = x;
      for (const [k, x] of Object.entries(v)) t[`v.${k}`] = x;
      return writeSafetensors(t, { dtype: 'f32', metadata: meta });
    };

    await assertRejectsCheckpointError(
      loadCheckpoint(join(root, 'nope')),
      'nope',
      /checkpoint directory not found/,
    );

    let d = await fresh('a');
    await tamper(d, 'config.json', '{\n  "dim": 6,\n  "name": tiny\n}\n');
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'config.json',
      /invalid JSON at line 3, column 11 \(offset \d+\) near "tiny/,
    );

    d = await fresh('b');
    await rm(join(d, 'COMPLETE'));
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      d,
      /incomplete checkpoint: no COMPLETE marker/,
    );

    d = await fresh('c');
    await writeFile(join(d, 'COMPLETE'), '{"format": "visurf-checkpoint",');
    await assertRejectsCheckpointError(loadCheckpoint(d), 'COMPLETE', /invalid JSON at line 1/);

    d = await fresh('d');
    await rm(join(d, 'model.safetensors'));
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'model.safetensors',
      /file missing \(listed in COMPLETE\)/,
    );

    d = await fresh('e');
    const model = await readFile(join(d, 'model.safetensors'));
    await writeFile(join(d, 'model.safetensors'), model.subarray(0, model.length - 5));
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'model.safetensors',
      /size is \d+ bytes but \d+ were written/,
    );

    d = await fresh('f');
    const flipped = Buffer.from(model);
    flipped[flipped.length - 1]! ^= 1;
    await writeFile(join(d, 'model.safetensors'), flipped);
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'model.safetensors',
      /SHA-256 does not match/,
    );

    // Truncated model with a matching manifest: the safetensors validator catches it.
    d = await fresh('g');
    await tamper(d, 'model.safetensors', model.subarray(0, model.length - 5));
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'model.safetensors',
      /beyond the \d+-byte data buffer|trailing bytes/,
    );

    d = await fresh('h');
    await tamper(
      d,
      'optimizer.safetensors',
      optBytes({ ...w, 'enc.w': { shape: [6, 4], data: w['enc.w']!.data } }),
    );
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'optimizer.safetensors',
      /optimizer m\.enc\.w has shape \[6,4\] but weight "enc\.w" has \[4,6\]/,
    );

    d = await fresh('i');
    const { 'dec.b': _drop, ...partial } = w;
    await tamper(d, 'optimizer.safetensors', optBytes(w, partial));
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'optimizer.safetensors',
      /optimizer has no v\.dec\.b for weight "dec\.b"/,
    );

    d = await fresh('j');
    await tamper(
      d,
      'optimizer.safetensors',
      optBytes({ ...w, extra: { shape: [1], data: new Float32Array(1) } }),
    );
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'optimizer.safetensors',
      /optimizer has m\.extra but there is no weight "extra"/,
    );

    d = await fresh('k');
    await tamper(d, 'optimizer.safetensors', optBytes(w, w, { step: 'ten' }));
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'optimizer.safetensors',
      /metadata "step" must be a non-negative integer, got "ten"/,
    );

    d = await fresh('l');
    await tamper(
      d,
      'optimizer.safetensors',
      writeSafetensors(
        { junk: { shape: [1], data: new Float32Array(1) } },
        { dtype: 'f32', metadata: { step: '1' } },
      ),
    );
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'optimizer.safetensors',
      /unexpected tensor "junk"/,
    );

    d = await fresh('m');
    await tamper(d, 'model.safetensors', writeSafetensors(w, { dtype: 'bf16' }));
    await assertRejectsCheckpointError(
      loadCheckpoint(d),
      'model.safetensors',
      /is BF16 but the checkpoint says F32/,
    );

    d = await fresh('n');
    await tamper(d, 'trainer_state.json', Buffer.from([0x7b, 0xff, 0x7d]));
    await assertRejectsCheckpointError(loadCheckpoint(d), 'trainer_state.json', /not valid UTF-8/);
  });
});

test('save rejects bad input before touching the disk, and refuses to clobber non-checkpoints', async () => {
  await withTempDir(async (root) => {
    const ck = makeCheckpoint(1);
    ck.optimizer!.m['enc.w'] = { shape: [24], data: new Float32Array(24) };
    await assertRejectsCheckpointError(
      saveCheckpoint(join(root, 'x'), ck, { dtype: 'f32' }),
      'optimizer.safetensors',
      /has shape \[24\]/,
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assertRejectsCheckpointError(
      saveCheckpoint(join(root, 'y'), { weights: {}, config: circular }, { dtype: 'f32' }),
      'config.json',
      /not JSON-serialisable/,
    );
    assert.deepEqual(await readdir(root), [], 'no temp debris after a rejected save');

    await mkdir(join(root, 'precious'));
    await writeFile(join(root, 'precious', 'thesis.tex'), 'do not delete');
    await assertRejectsCheckpointError(
      saveCheckpoint(join(root, 'precious'), makeCheckpoint(1), { dtype: 'f32' }),
      'precious',
      /does not look like a checkpoint; refusing/,
    );
    assert.equal(await readFile(join(root, 'precious', 'thesis.tex'), 'utf8'), 'do not delete');
  });
});

class Crash extends Error {}

test('a crash at every stage leaves either the complete old or the complete new checkpoint', async () => {
  await withTempDir(async (root) => {
    const seen = new Set<SaveStage>();
    for (const stage of SAVE_STAGES) {
      for (const hadOld of [true, false]) {
        const runDir = join(root, `${stage}-${hadOld}`);
        const dir = checkpointDirForStep(runDir, 120);
        if (hadOld) await saveCheckpoint(dir, makeCheckpoint(1), { dtype: 'f32' });
        let crashed = false;
        await saveCheckpoint(dir, makeCheckpoint(2), {
          dtype: 'bf16',
          onStage: (s) => {
            seen.add(s);
            if (s === stage) {
              crashed = true;
              throw new Crash(`simulated crash after ${s}`);
            }
          },
        }).catch((e) => assert.ok(e instanceof Crash, `unexpected ${String(e)}`));
        if (!crashed) continue; // stage not reached in this variant (e.g. no old to move aside)

        const afterRename = SAVE_STAGES.indexOf(stage) >= SAVE_STAGES.indexOf('new-renamed');
        const latest = await latestCheckpoint(runDir);
        if (!hadOld && !afterRename) {
          assert.equal(latest, undefined, `${stage}: nothing complete yet`);
          await assertRejectsCheckpointError(loadCheckpoint(dir), 'step-000120', /not found/);
        } else {
          assert.equal(latest?.path, dir, `${stage}`);
          const tag = assertConsistent(await loadCheckpoint(dir));
          assert.equal(tag, afterRename ? 2 : 1, `${stage} (hadOld=${hadOld})`);
        }
        // The next save succeeds and sweeps this process's debris.
        await saveCheckpoint(dir, makeCheckpoint(3), { dtype: 'f32' });
        assert.equal(assertConsistent(await loadCheckpoint(dir)), 3);
        assert.deepEqual(
          await readdir(join(runDir, 'checkpoints')),
          ['step-000120'],
          `${stage}: debris left`,
        );
      }
    }
    assert.deepEqual([...seen].sort(), [...SAVE_STAGES].sort(), 'every stage was exercised');
  });
});

test('listCheckpoints / latestCheckpoint ignore temp, incomplete and damaged dirs, and recover an orphaned old copy', async () => {
  await withTempDir(async (runDir) => {
    const ckdir = join(runDir, 'checkpoints');
    assert.deepEqual(await listCheckpoints(runDir), []);
    assert.equal(await latestCheckpoint(runDir), undefined);
    for (const step of [1, 5, 7, 9])
      await saveCheckpoint(checkpointDirForStep(runDir, step), makeCheckpoint(step), {
        dtype: 'f32',
      });
    // step 9: marker missing (interrupted before COMPLETE, written by another tool)
    await rm(join(ckdir, 'step-000009', 'COMPLETE'));
    // step 7: a file truncated after the fact
    const m7 = join(ckdir, 'step-000007', 'model.safetensors');
    await writeFile(m7, (await readFile(m7)).subarray(0, 10));
    // a complete-looking temp dir of a later step, and assorted junk
    await cp(join(ckdir, 'step-000005'), join(ckdir, '.step-000011.tmp-999999-abcdef'), {
      recursive: true,
    });
    await cp(join(ckdir, 'step-000005'), join(ckdir, 'step-000012.bak'), { recursive: true });
    await writeFile(join(ckdir, 'step-000013'), 'a file, not a dir');
    await mkdir(join(ckdir, 'step-abc'));
    assert.deepEqual(
      (await listCheckpoints(runDir)).map((c) => c.step),
      [1, 5],
    );
    assert.equal((await latestCheckpoint(runDir))?.path, join(ckdir, 'step-000005'));

    // Interrupted replacement of step 20: only the .old copy survives; listing recovers it.
    const d20 = checkpointDirForStep(runDir, 20);
    await saveCheckpoint(d20, makeCheckpoint(20), { dtype: 'f32' });
    await saveCheckpoint(d20, makeCheckpoint(21), {
      dtype: 'f32',
      onStage: (s) => {
        if (s === 'old-moved-aside') throw new Crash('boom');
      },
    }).catch((e) => assert.ok(e instanceof Crash));
    assert.ok(!(await readdir(ckdir)).includes('step-000020'));
    const latest = await latestCheckpoint(runDir);
    assert.equal(latest?.step, 20);
    assert.equal(assertConsistent(await loadCheckpoint(latest!.path)), 20);
  });
});

test('CheckpointError carries file and problem separately', () => {
  const e = new CheckpointError('/x/model.safetensors', 'header is not valid JSON');
  assert.equal(e.message, '/x/model.safetensors: header is not valid JSON');
  assert.equal(e.file, '/x/model.safetensors');
  assert.equal(e.problem, 'header is not valid JSON');
  assert.equal(e.name, 'CheckpointError');
  assert.equal(checkpointDirForStep('/r', 120), join('/r', 'checkpoints', 'step-000120'));
  assert.equal(checkpointDirForStep('/r', 1234567), join('/r', 'checkpoints', 'step-1234567'));
});
