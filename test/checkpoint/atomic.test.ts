import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fsyncDir,
  writeFileAtomic,
  writeFileAtomicSync,
  writeFileDurable,
} from '../../src/model/atomic.js';
import { withTempDir } from './helpers.js';

test('writeFileAtomic creates and replaces files without leaving temp files', async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, 'latest.json');
    await writeFileAtomic(p, '{"step":1}');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await readFile(p))], [1, 2, 3]);
    writeFileAtomicSync(p, 'sync');
    assert.equal(await readFile(p, 'utf8'), 'sync');
    assert.deepEqual(await readdir(dir), ['latest.json']);
    await fsyncDir(dir);
  });
});

test('a failed atomic write leaves the old file and no debris', async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, 'f');
    await writeFileAtomic(p, 'old');
    // Renaming a file over a directory fails after the temp file was written.
    await mkdir(join(dir, 'd'));
    await assert.rejects(writeFileAtomic(join(dir, 'd'), 'x'));
    assert.throws(() => writeFileAtomicSync(join(dir, 'd'), 'x'));
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'f'), 'x'), /ENOENT/);
    assert.deepEqual((await readdir(dir)).sort(), ['d', 'f']);
    assert.equal(await readFile(p, 'utf8'), 'old');
    // writeFileDurable never overwrites.
    await assert.rejects(writeFileDurable(p, 'new'), /EEXIST/);
  });
});
