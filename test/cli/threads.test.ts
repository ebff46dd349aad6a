/** --threads on every command: a positive integer, checked before the command runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('--threads is accepted before or after the command and refused when not a positive integer', () => {
  assert.equal(run(['--threads', '1', 'config', 'show']).status, 0);
  assert.equal(run(['config', 'show', '--threads', '1']).status, 0);
  const bad = run(['--threads', '0', 'config', 'show']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--threads: expected a positive integer, got "0"/);
});
