/**
 * Every `visurf …` line of README.md's command-line block runs as written — shrunk by appended
 * overrides so the suite stays fast (a tiny model, one step, two samples). compare, pretrain and
 * bench take minutes even shrunk; their own tests run them (experiment/compare.test.ts,
 * train/vision-stage tests, the bench's kernels), so here they are only parsed (`--help`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinySets, withTemp } from '../reliability/helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The block's lines: `[stdin, argv]` with the comment stripped and single quotes honoured. */
function examples(): Array<{ line: string; stdin: string | null; argv: string[] }> {
  const text = readFileSync(README, 'utf8');
  const block = /## Command line[\s\S]*?```sh\n([\s\S]*?)```/.exec(text)![1]!;
  return block
    .split('\n')
    .filter((l) => l.includes('visurf '))
    .map((line) => {
      let cmd = line.replace(/\s+#.*$/, '').trim();
      let stdin: string | null = null;
      const pipe = /^echo '(.*)' \| (visurf .*)$/.exec(cmd);
      if (pipe) {
        stdin = `${pipe[1]}\n`;
        cmd = pipe[2]!;
      }
      const argv = [...cmd.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
      return { line, stdin, argv };
    });
}

const SHRINK: Record<string, (dir: string) => string[]> = {
  train: (dir) => ['--run-dir', join(dir, 'run'), ...tinySets(1).flatMap((f) => ['--set', f])],
  eval: () => ['--n', '1'],
  data: (dir) => ['--n', '2', '--out', join(dir, 'data')],
};

test(
  'every README command-line example runs as written (shrunk)',
  { timeout: 120_000 },
  async () => {
    const lines = examples();
    assert.ok(lines.length >= 8, `found ${lines.length} examples`);
    await withTemp(async (dir) => {
      for (const { line, stdin, argv } of lines) {
        const cmd = argv[0]!;
        const extra = ['compare', 'pretrain', 'bench'].includes(cmd)
          ? ['--help']
          : (SHRINK[cmd]?.(dir) ?? []);
        // later flags win in commander and in --set, so the shrinking overrides the example's sizes
        const r = spawnSync(process.execPath, [MAIN, ...argv, ...extra], {
          encoding: 'utf8',
          input: stdin ?? '',
          env: { ...process.env, OMP_NUM_THREADS: '1' },
        });
        assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      }
    });
  },
);
