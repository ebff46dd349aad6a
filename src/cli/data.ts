/** `visurf data generate | check`: write generated task datasets with a contact sheet, validate datasets on disk. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  DatasetError,
  contactSheet,
  DatasetWriter,
  encodePng,
  formatRowError,
  type DatasetFormat,
  type Layout,
} from '../data/index.js';
import {
  generateSample,
  isTaskName,
  TASK_NAMES,
  type Sample,
  type TaskName,
} from '../tasks/index.js';
import { didYouMean } from '../train/suggest.js';
import { readTrainingDataset } from '../train/dataset-reader.js';
import { COLUMNS_FLAG_HELP, parseColumnsFlag } from './columns-flag.js';
import { modelConfigOf } from '../train/trainer.js';
import { DEFAULT_TEMPLATE } from '../train/config.js';
import { DEFAULT_BASE, tokenizerOf } from '../model/index.js';

function integer(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi)
      throw new Error(`--${name} must be an integer in [${lo}, ${hi}], got ${v}`);
    return n;
  };
}

function taskList(v: string): TaskName[] {
  const names = v === 'all' ? [...TASK_NAMES] : v.split(',').map((s) => s.trim());
  for (const n of names)
    if (!isTaskName(n))
      throw new Error(
        `unknown task "${n}"${didYouMean(n, TASK_NAMES)}; expected one of ${TASK_NAMES.join(', ')} or all`,
      );
  return names as TaskName[];
}

interface GenerateOptions {
  task: TaskName[];
  n: number;
  seed: number;
  out: string;
  format: DatasetFormat;
  layout: Layout;
  size: number;
  sheet: number;
  mixed?: boolean;
}

/** Samples generated and written per batch: memory holds one batch, whatever --n is. */
const GENERATE_BATCH = 1000;

async function generate(o: GenerateOptions): Promise<void> {
  await mkdir(o.out, { recursive: true });
  const options = { width: o.size, height: o.size };
  // One file per task, or (with --mixed) one file whose samples cycle through the tasks:
  // sample i is task tasks[i mod k] with seed seed + i (tasks/registry.ts generateMixed).
  const groups: [string, readonly TaskName[]][] = o.mixed
    ? [['mixed', o.task]]
    : o.task.map((t) => [t, [t]]);
  for (const [name, tasks] of groups) {
    const t0 = performance.now();
    const dataPath = join(o.out, `${name}.${o.format}`);
    const writer = await DatasetWriter.open(dataPath, { layout: o.layout });
    let sheet: Sample[] = [];
    for (let start = 0; start < o.n; start += GENERATE_BATCH) {
      const batch = Array.from({ length: Math.min(GENERATE_BATCH, o.n - start) }, (_, j) =>
        generateSample(tasks[(start + j) % tasks.length]!, o.seed + start + j, options),
      );
      if (start === 0) sheet = batch.slice(0, o.sheet);
      await writer.add(batch);
    }
    await writer.close();
    const sheetPath = join(o.out, `${name}-sheet.png`);
    await writeFile(
      sheetPath,
      await encodePng(
        contactSheet(sheet, {
          count: o.sheet,
          columns: 4,
          zoom: Math.max(1, Math.round(192 / o.size)),
        }),
      ),
    );
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    process.stdout.write(
      `${name}: ${writer.count} samples (${seconds} s) -> ${dataPath}, ${sheetPath}\n`,
    );
  }
}

export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description('generate task datasets and check datasets on disk');
  data
    .command('generate')
    .description(
      'generate a task dataset (Parquet or JSONL) and a contact-sheet PNG of its first samples',
    )
    .requiredOption(
      '--task <names>',
      `task name, comma-separated list, or all (${TASK_NAMES.join(', ')})`,
      taskList,
    )
    .option('--n <count>', 'samples per task', integer('n', 1, 10_000_000), 1000)
    .option(
      '--seed <seed>',
      'first seed (sample i uses seed + i)',
      integer('seed', 0, 2 ** 31 - 1),
      0,
    )
    .requiredOption('--out <dir>', 'output folder')
    .option(
      '--format <format>',
      'parquet or jsonl',
      (v) => {
        if (v !== 'parquet' && v !== 'jsonl') throw new Error('--format must be parquet or jsonl');
        return v as DatasetFormat;
      },
      'parquet' as DatasetFormat,
    )
    .option(
      '--layout <layout>',
      'train (image, problem, solution) or eval (image, text, mask, bbox, ...)',
      (v) => {
        if (v !== 'train' && v !== 'eval') throw new Error('--layout must be train or eval');
        return v as Layout;
      },
      'train' as Layout,
    )
    .option('--size <px>', 'image width and height', integer('size', 16, 4096), 64)
    .option('--sheet <count>', 'samples on the contact sheet', integer('sheet', 1, 256), 16)
    .option('--mixed', 'write one file, mixed.<format>, cycling through the tasks')
    .action(async (o: GenerateOptions) => generate(o));
  data
    .command('check')
    .description(
      'check every row of a dataset with the checks train runs (columns, image, solution, prompt budget of the model); report the first bad row (file, row, field) and the bad-row count',
    )
    .argument('<path>', 'a .parquet or .jsonl dataset')
    .option('--task <name>', 'task assumed for rows without a task column', 'refer')
    .option(
      '--model <ref>',
      'the model whose prompt budget and input size apply (as model.init)',
      DEFAULT_BASE,
    )
    .option('--template <name>', 'prompt template (as data.template)', DEFAULT_TEMPLATE)
    .option('--columns <map>', COLUMNS_FLAG_HELP)
    .option('--json', 'print the report as JSON')
    .action(
      async (
        path: string,
        o: { task: string; model: string; template: string; columns?: string; json?: boolean },
      ) => {
        if (!isTaskName(o.task))
          throw new Error(`--task: unknown task "${o.task}"${didYouMean(o.task, TASK_NAMES)}`);
        const model = modelConfigOf(o.model);
        const columns = parseColumnsFlag(o.columns);
        let r;
        try {
          r = await readTrainingDataset(path, {
            skipBad: true,
            task: o.task,
            columns,
            resize: { width: model.image.size, height: model.image.size },
            prompt: {
              template: o.template,
              maxPromptTokens: model.maxPromptTokens,
              tokenizer: tokenizerOf(model),
            },
          });
        } catch (e) {
          if (!(e instanceof DatasetError)) throw e;
          process.stdout.write(`${path}: unreadable\nfirst bad row: ${formatRowError(e.detail)}\n`);
          process.exitCode = 1;
          return;
        }
        const first = r.errors[0];
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify({ file: path, layout: r.layout, rows: r.rows, bad: r.bad, firstError: first ?? null }, null, 2)}\n`,
          );
          if (first) process.exitCode = 1;
          return;
        }
        if (first) {
          process.stdout.write(
            `${path}: ${r.bad} bad of ${r.rows} rows (layout ${r.layout})\nfirst bad row: ${formatRowError(first)}\n`,
          );
          process.exitCode = 1;
        } else {
          process.stdout.write(
            `${path}: ok, ${r.rows} rows, layout ${r.layout} (checked for ${o.model}: images resized to ${model.image.size} px, prompts within ${model.maxPromptTokens} tokens)\n`,
          );
        }
      },
    );
}
