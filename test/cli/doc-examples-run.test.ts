/**
 * Every command example of README.md and docs/*.md runs, in order, each file in a fresh
 * directory — shrunk by appended overrides (later flags and --set win) to a tiny model, one
 * step, a sample or two, so the whole set takes about a minute. Files an example reads but no
 * earlier example writes (the docs' `my.parquet`, `my.jsonl`) are made first. `bench` is only
 * parsed (`--help`): its figures take minutes by definition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDataset } from '../../src/data/index.js';
import { generateSample } from '../../src/tasks/index.js';
import { DOC_FILES, ROOT, examplesOf } from './doc-examples-lib.js';

const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const sets = (...kv: string[]) => kv.flatMap((s) => ['--set', s]);

/** A small run of any training config: the 16 px model, one step, tasks it can draw. */
const TRAIN = [
  'model.init=tiny',
  'steps=1',
  'sftSteps=0',
  'budgetTokens=0',
  'promptsPerStep=2',
  'rollout.groupSize=2',
  'rollout.maxNewTokens=4',
  'microBatch=0',
  'eval.size=1',
  'eval.every=0',
  'eval.points=0',
  'data.tasks=[refer, count]',
  'data.curriculum=[]',
  'checkpoint.every=0',
];

function shrink(argv: readonly string[]): string[] | null {
  const [cmd, sub] = argv;
  if (cmd === 'bench') return ['--help'];
  if (cmd === 'train') {
    const method = argv[argv.indexOf('--method') + 1];
    return sets(...TRAIN, ...(method === 'sft-rlvr' ? ['steps=2', 'sftSteps=1'] : []));
  }
  if (cmd === 'pretrain')
    return [
      ...sets(...TRAIN, 'visionStage.steps=1', 'visionStage.evalSize=2'),
      '--gap-samples',
      '1',
    ];
  if (cmd === 'compare')
    return [
      ...sets(
        ...TRAIN.filter((s) => !s.startsWith('model.')).map((s) => `train.${s}`),
        'train.steps=2', // sft-rlvr's switch needs 0 < sftSteps < steps
        'train.sftSteps=1',
        'evalSize=1',
        'evalPoints=0',
        'passAtK.size=1',
        'passAtK.n=2',
        'passAtK.ks=[1, 2]',
        'isolate=false',
        'forgetting=[colorqa]',
      ),
      '--seeds',
      '0',
    ];
  if (cmd === 'eval') return argv.includes('--data') ? ['--limit', '2'] : ['--n', '1'];
  if (cmd === 'data' && sub === 'generate') return ['--n', '2'];
  return [];
}

/** Inputs the docs assume the reader has: a small refer dataset under each name. */
async function makeInputs(dir: string, argv: readonly string[]): Promise<void> {
  const samples = [1, 2, 3, 4].map((k) => generateSample('refer', k, { width: 48, height: 40 }));
  // the files an example reads: `data check FILE`, `--data FILE`, `data.path=` / `data.valPath=`
  const inputs = argv.flatMap((a, i) => {
    const prev = argv[i - 1];
    if ((prev === 'check' && argv[0] === 'data') || prev === '--data') return [a];
    const m = /^data\.(?:path|valPath)=(.+)$/.exec(a);
    return m ? [m[1]!] : [];
  });
  for (const file of inputs) {
    if (existsSync(join(dir, file))) continue;
    const path = join(dir, file);
    await writeDataset(path, samples);
    if (file === 'my.jsonl') {
      // DATA.md reads it through a column map: image=img, problem=question, solution=label
      const renamed = { image: 'img', problem: 'question', solution: 'label' } as Record<
        string,
        string
      >;
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      writeFileSync(
        path,
        lines
          .map((l) =>
            JSON.stringify(
              Object.fromEntries(
                Object.entries(JSON.parse(l) as object).map(([k, v]) => [renamed[k] ?? k, v]),
              ),
            ),
          )
          .join('\n') + '\n',
      );
    }
  }
}

for (const file of DOC_FILES) {
  const examples = examplesOf(file);
  if (!examples.length) continue;
  test(`every command example in ${file} runs (shrunk)`, { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'visurf-docrun-'));
    try {
      symlinkSync(join(ROOT, 'configs'), join(dir, 'configs'));
      for (const ex of examples) {
        const extra = shrink(ex.argv);
        if (extra === null) continue;
        await makeInputs(dir, ex.argv);
        const r = spawnSync(process.execPath, [MAIN, ...ex.argv, ...extra], {
          cwd: dir,
          encoding: 'utf8',
          input: ex.stdin ?? '{"task":"refer","response":"<answer>[]</answer>","solution":"[]"}\n',
          env: { ...process.env, OMP_NUM_THREADS: '1', VISURF_MEMORY_CHECK: 'off' },
          timeout: 120_000,
        });
        assert.equal(r.status, 0, `${ex.line}\n${r.stderr.slice(-2000)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
