/**
 * `visurf demo` (what `make demo` runs): get a base model (the shipped one, a cached one, or
 * pre-train one), compare base / SFT / RLVR / ViSurf on a knowledge-gap task (non-object
 * queries) and an in-knowledge task (referring grounding), print the table, write the report.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { applyOverrides, readConfigFile } from '../train/config.js';
import { DEFAULT_BASE, isCompleteCheckpoint, resolveModelRef } from '../model/index.js';
import { packagePath } from './paths.js';
import { finishCompare, runCompare } from './compare.js';

interface DemoOptions {
  out: string;
  base?: string;
  set: string[];
  json?: boolean;
}

async function findBase(explicit: string | undefined): Promise<string | null> {
  const candidates = explicit
    ? [resolveModelRef(explicit)]
    : [resolveModelRef(DEFAULT_BASE), 'runs/base'];
  for (const c of candidates) if (existsSync(c) && (await isCompleteCheckpoint(c))) return c;
  if (explicit) throw new Error(`demo: --base ${explicit} is not a complete checkpoint directory`);
  return null;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the main job on the built-in default: base vs SFT vs RLVR vs ViSurf on a gap task and an in-knowledge task',
    )
    .option('--out <dir>', 'output directory', 'runs/demo')
    .option(
      '--base <model>',
      `base model: a shipped model's name or a checkpoint directory (default: ${DEFAULT_BASE}, shipped in assets/)`,
    )
    .option(
      '--set <key=value>',
      'override a key of configs/demo.yaml (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--json', 'print results.json (and the report path) instead of the tables')
    .action(async (opts: DemoOptions) => {
      const base = await findBase(opts.base);
      if (!base) {
        throw new Error(
          `demo: no base model found (assets/${DEFAULT_BASE} is shipped with the repository; runs/base is the cache). ` +
            'Build one with: node dist/src/cli/main.js pretrain --out runs/base',
        );
      }
      const file = packagePath('configs', 'demo.yaml');
      const raw = applyOverrides(readConfigFile(file), [
        `base=${base}`,
        `out=${opts.out}`,
        ...opts.set,
      ]);
      const { results, out } = await runCompare(
        raw,
        file,
        `visurf demo ${process.argv.slice(3).join(' ')}`.trim(),
      );
      finishCompare(results, out, opts.json ?? false);
    });
}
