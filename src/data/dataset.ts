/**
 * Reading, writing and checking datasets on disk (Parquet or JSONL, training or evaluation
 * layout), reporting the file, row and field of bad rows, optionally skipping and counting them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Sample, TaskName } from '../tasks/types.js';
import { encodePng } from './codec.js';
import { evalRowToSample, sampleToEvalRow, sampleToTrainRow, trainRowToSample } from './convert.js';
import { readJsonlRows, writeJsonlRows } from './jsonl.js';
import {
  detectLayout,
  formatRowError,
  normalizeCell,
  validateRow,
  type EvalRow,
  type Layout,
  type RowError,
  type TrainRow,
} from './layout.js';
import { readParquetRows, writeParquetRows } from './parquet.js';
import { resizeSample } from './resize.js';

export type DatasetFormat = 'parquet' | 'jsonl';

/** Thrown by readDataset on the first bad row unless bad rows are skipped. */
export class DatasetError extends Error {
  constructor(readonly detail: RowError) {
    super(formatRowError(detail));
    this.name = 'DatasetError';
  }
}

export function formatOf(path: string): DatasetFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.jsonl' || ext === '.json') return 'jsonl';
  throw new Error(`${path}: unknown dataset format (expected .parquet or .jsonl)`);
}

export interface WriteOptions {
  layout?: Layout;
}

/**
 * Write samples to `path` (.parquet or .jsonl) in a layout (default training). Parquet embeds PNGs
 * as HF image structs; JSONL writes PNG files to `images/` beside it and stores relative paths.
 */
export async function writeDataset(
  path: string,
  samples: readonly Sample[],
  options: WriteOptions = {},
): Promise<void> {
  const layout = options.layout ?? 'train';
  await mkdir(dirname(path), { recursive: true });
  const rows: Record<string, unknown>[] = [];
  for (const s of samples)
    rows.push(
      (layout === 'train' ? await sampleToTrainRow(s) : await sampleToEvalRow(s)) as Record<
        string,
        unknown
      >,
    );
  if (formatOf(path) === 'parquet') return writeParquetRows(path, layout, rows);
  const imgDir = join(dirname(path), 'images');
  await mkdir(imgDir, { recursive: true });
  for (let i = 0; i < rows.length; i++) {
    const file = `${samples[i]!.id}.png`;
    await writeFile(join(imgDir, file), await encodePng(samples[i]!.image));
    rows[i]!['image'] = `images/${file}`;
  }
  await writeJsonlRows(path, rows);
}

export interface ReadOptions {
  /** Layout to expect; detected from the columns of the first row when absent. */
  layout?: Layout;
  /** Skip bad rows (counting them) instead of failing on the first one. */
  skipBad?: boolean;
  /** Task of rows without a `task` column (default 'refer'). */
  task?: TaskName;
  /** Resize every sample (image, boxes, points, masks) to this size, e.g. { width: 64, height: 64 }. */
  resize?: { width: number; height: number };
  /** First row to read (default 0); row numbers in errors stay absolute. */
  offset?: number;
  /** Most rows to read (default all). */
  limit?: number;
}

export interface ReadResult {
  samples: Sample[];
  layout: Layout;
  /** Number of rows read (good and bad). */
  rows: number;
  /** Number of bad rows skipped. */
  bad: number;
  /** Every bad row's error, in row order. */
  errors: RowError[];
}

/** Rows [offset, offset + limit) of a file; parse errors keep absolute row numbers. */
async function rawRows(
  path: string,
  offset: number,
  limit: number | undefined,
): Promise<{ rows: (Record<string, unknown> | null)[]; errors: RowError[] }> {
  if (formatOf(path) === 'parquet') {
    const range = limit === undefined ? { offset } : { offset, limit };
    return { rows: await readParquetRows(path, range), errors: [] };
  }
  const all = await readJsonlRows(path);
  const end = limit === undefined ? all.rows.length : offset + limit;
  return {
    rows: all.rows.slice(offset, end),
    errors: all.errors.filter((e) => e.row >= offset && e.row < end),
  };
}

/** Read a dataset into samples; throws DatasetError on the first bad row unless skipBad. */
export async function readDataset(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  const { rows, errors: parseErrors } = await rawRows(path, offset, options.limit);
  const columns = [...new Set(rows.flatMap((r) => (r ? Object.keys(r) : [])))];
  // With no readable row there is nothing to detect from; per-row errors still get reported.
  const layout = options.layout ?? (columns.length === 0 ? 'train' : detectLayout(columns));
  if (!layout) {
    throw new DatasetError({
      file: path,
      row: 0,
      field: '(columns)',
      message: `columns ${columns.join(', ')} match neither layout (train: image, problem, solution; eval: image, text, mask, bbox, img_height, img_width)`,
    });
  }
  const errors: RowError[] = [];
  const samples: Sample[] = [];
  const parseErrorAt = new Map(parseErrors.map((e) => [e.row, e]));
  const ctxBase = {
    baseDir: dirname(path),
    defaultTask: options.task ?? 'refer',
    idPrefix: basename(path, extname(path)),
  } as const;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const i = offset + k; // absolute row number, for errors and ids
    let err: RowError | null = parseErrorAt.get(i) ?? null;
    if (!err && row) err = validateRow(row, layout, path, i);
    if (!err && row) {
      try {
        const norm = normalizeCell(row);
        const ctx = { ...ctxBase, index: i };
        const sample =
          layout === 'train'
            ? await trainRowToSample(norm as TrainRow, ctx)
            : await evalRowToSample(norm as EvalRow, ctx);
        samples.push(
          options.resize
            ? await resizeSample(sample, options.resize.width, options.resize.height)
            : sample,
        );
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const field = /mask/.test(message) ? 'mask' : /objects/.test(message) ? 'objects' : 'image';
        err = { file: path, row: i, field, message };
      }
    }
    if (err) {
      if (!options.skipBad) throw new DatasetError(err);
      errors.push(err);
    }
  }
  return { samples, layout, rows: rows.length, bad: errors.length, errors };
}

export interface CheckReport {
  file: string;
  layout: Layout | null;
  rows: number;
  bad: number;
  /** The first bad row, or null when every row is good. */
  firstError: RowError | null;
}

/** Validate every row of a dataset (decoding images too) without stopping at the first bad one. */
export async function checkDataset(
  path: string,
  options: Omit<ReadOptions, 'skipBad'> = {},
): Promise<CheckReport> {
  try {
    const r = await readDataset(path, { ...options, skipBad: true });
    return {
      file: path,
      layout: r.layout,
      rows: r.rows,
      bad: r.bad,
      firstError: r.errors[0] ?? null,
    };
  } catch (e) {
    const detail: RowError =
      e instanceof DatasetError
        ? e.detail
        : {
            file: path,
            row: 0,
            field: '(file)',
            message: e instanceof Error ? e.message : String(e),
          };
    return { file: path, layout: null, rows: 0, bad: 1, firstError: detail };
  }
}
