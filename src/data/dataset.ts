/**
 * Reading, writing and checking datasets on disk (Parquet or JSONL, training or evaluation
 * layout), reporting the file, row and field of bad rows, optionally skipping and counting them.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Sample, TaskName } from '../tasks/types.js';
import { encodePng } from './codec.js';
import { columnMapProblems, fileField, renameColumns, type ColumnMap } from './columns.js';
import { evalRowToSample, sampleToEvalRow, sampleToTrainRow, trainRowToSample } from './convert.js';
import { jsonlText, readJsonlRows } from './jsonl.js';
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
import { ParquetRowWriter, parquetRowCount, readParquetChunks } from './parquet.js';
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
 * A dataset written as samples come (.parquet or .jsonl, a layout; default training): Parquet
 * embeds PNGs as HF image structs, one row group per `add`; JSONL writes PNG files to `images/`
 * beside it and stores relative paths. Only the batch being added is in memory, and the file
 * appears under its name only when `close` finishes (it is written as `<path>.tmp-<pid>` first).
 */
export class DatasetWriter {
  private readonly tmp: string;
  private readonly parquet: ParquetRowWriter | null;
  private constructor(
    readonly path: string,
    readonly layout: Layout,
  ) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.parquet = formatOf(path) === 'parquet' ? new ParquetRowWriter(this.tmp, layout) : null;
  }

  /** Samples written so far. */
  count = 0;

  static async open(path: string, options: WriteOptions = {}): Promise<DatasetWriter> {
    formatOf(path); // an unknown extension fails before anything is written
    await mkdir(dirname(path), { recursive: true });
    const w = new DatasetWriter(path, options.layout ?? 'train');
    if (!w.parquet) await writeFile(w.tmp, '');
    return w;
  }

  async add(samples: readonly Sample[]): Promise<void> {
    const rows: Record<string, unknown>[] = [];
    for (const s of samples)
      rows.push(
        (this.layout === 'train' ? await sampleToTrainRow(s) : await sampleToEvalRow(s)) as Record<
          string,
          unknown
        >,
      );
    if (this.parquet) this.parquet.write(rows);
    else {
      const imgDir = join(dirname(this.path), 'images');
      await mkdir(imgDir, { recursive: true });
      for (let i = 0; i < rows.length; i++) {
        const file = `${samples[i]!.id}.png`;
        await writeFile(join(imgDir, file), await encodePng(samples[i]!.image));
        rows[i]!['image'] = `images/${file}`;
      }
      await appendFile(this.tmp, jsonlText(rows));
    }
    this.count += samples.length;
  }

  async close(): Promise<void> {
    this.parquet?.close();
    await rename(this.tmp, this.path);
  }
}

/** Write samples to `path` at once (see DatasetWriter). */
export async function writeDataset(
  path: string,
  samples: readonly Sample[],
  options: WriteOptions = {},
): Promise<void> {
  const w = await DatasetWriter.open(path, options);
  await w.add(samples);
  await w.close();
}

export interface ReadOptions {
  /** Layout to expect; detected from the columns of the first row when absent. */
  layout?: Layout;
  /** Skip bad rows (counting them) instead of failing on the first one. */
  skipBad?: boolean;
  /** Task of rows without a `task` column (default 'refer'). */
  task?: TaskName;
  /**
   * Resize every sample (image, boxes, points, masks) to this size, e.g. { width: 64, height: 64 },
   * as it is read: full-size images are never all held at once.
   */
  resize?: { width: number; height: number };
  /**
   * A check of each sample at full size, before resizing: a problem it returns makes the row
   * bad (reported with that field), e.g. a label its task's reward cannot score.
   */
  check?: (sample: Sample, layout: Layout) => { field: string; message: string } | null;
  /** First row to read (default 0); row numbers in errors stay absolute. */
  offset?: number;
  /** Most rows to read (default all). */
  limit?: number;
  /** The file's names of layout columns (columns.ts), e.g. { problem: 'question' }. */
  columns?: ColumnMap;
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

/**
 * Rows [offset, offset + limit) of a file in chunks (Parquet is read by byte ranges, a chunk at
 * a time); parse errors keep absolute row numbers. A file that cannot be read at all is a
 * DatasetError naming it.
 */
async function* rawRowChunks(
  path: string,
  offset: number,
  limit: number | undefined,
): AsyncGenerator<{ start: number; rows: (Record<string, unknown> | null)[]; errors: RowError[] }> {
  const unreadable = (e: unknown) =>
    new DatasetError({
      file: path,
      row: 0,
      field: '(file)',
      message: `cannot read the file as ${formatOf(path) === 'parquet' ? 'Parquet' : 'JSONL'} (${e instanceof Error ? e.message : String(e)})`,
    });
  if (formatOf(path) === 'parquet') {
    const range = limit === undefined ? { offset } : { offset, limit };
    const chunks = readParquetChunks(path, range);
    for (;;) {
      let next: IteratorResult<{ start: number; rows: Record<string, unknown>[] }>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw unreadable(e);
      }
      if (next.done) return;
      yield { ...next.value, errors: [] };
    }
  }
  let all: Awaited<ReturnType<typeof readJsonlRows>>;
  try {
    all = await readJsonlRows(path);
  } catch (e) {
    throw unreadable(e);
  }
  const end = limit === undefined ? all.rows.length : offset + limit;
  yield {
    start: offset,
    rows: all.rows.slice(offset, end),
    errors: all.errors.filter((e) => e.row >= offset && e.row < end),
  };
}

/**
 * Read a dataset into samples; throws DatasetError on the first bad row unless skipBad. Rows are
 * converted (and resized) a chunk at a time, so only the resized samples stay in memory.
 */
export async function readDataset(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  const errors: RowError[] = [];
  const samples: Sample[] = [];
  let layout: Layout | undefined = options.layout;
  let rowCount = 0;
  const ctxBase = {
    baseDir: dirname(path),
    defaultTask: options.task ?? 'refer',
    idPrefix: basename(path, extname(path)),
  } as const;
  const map = options.columns ?? {};
  const problems = columnMapProblems(map);
  if (problems.length)
    throw new DatasetError({
      file: path,
      row: 0,
      field: '(columns)',
      message: `column map: ${problems.join('; ')}`,
    });
  for await (const raw of rawRowChunks(path, offset, options.limit)) {
    const chunk = { ...raw, rows: raw.rows.map((r) => (r ? renameColumns(r, map) : r)) };
    if (!layout) {
      const columns = [...new Set(chunk.rows.flatMap((r) => (r ? Object.keys(r) : [])))];
      // With no readable row there is nothing to detect from; per-row errors still get reported.
      const detected = columns.length === 0 ? 'train' : detectLayout(columns);
      if (!detected) {
        throw new DatasetError({
          file: path,
          row: 0,
          field: '(columns)',
          message: `columns ${columns.join(', ')} match neither layout (train: image, problem, solution; eval: image, text, mask, bbox, img_height, img_width; data.columns maps other names)`,
        });
      }
      layout = detected;
    }
    const parseErrorAt = new Map(chunk.errors.map((e) => [e.row, e]));
    for (let k = 0; k < chunk.rows.length; k++) {
      const row = chunk.rows[k];
      const i = chunk.start + k; // absolute row number, for errors and ids
      rowCount++;
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
          const problem = options.check?.(sample, layout);
          if (problem) err = { file: path, row: i, ...problem };
          else
            samples.push(
              options.resize
                ? await resizeSample(sample, options.resize.width, options.resize.height)
                : sample,
            );
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          const field = /mask/.test(message)
            ? 'mask'
            : /objects/.test(message)
              ? 'objects'
              : 'image';
          err = { file: path, row: i, field, message };
        }
      }
      if (err) {
        err = { ...err, field: fileField(err.field, map) };
        if (!options.skipBad) throw new DatasetError(err);
        errors.push(err);
      }
    }
  }
  return { samples, layout: layout ?? 'train', rows: rowCount, bad: errors.length, errors };
}

/**
 * How many rows a dataset file has, cheaply (a Parquet footer, or the JSONL's non-blank lines),
 * for the memory estimate before the rows are read; 0 when the file cannot be read (reading it
 * then reports why).
 */
export async function countDatasetRows(path: string): Promise<number> {
  try {
    if (formatOf(path) === 'parquet') return await parquetRowCount(path);
    const text = await readFile(path, 'utf8');
    return text.split('\n').filter((l) => l.trim() !== '').length;
  } catch {
    return 0;
  }
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
