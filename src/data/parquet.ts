/** Parquet reading and writing of dataset rows (hyparquet / hyparquet-writer), with explicit schemas. */
import { writeFile } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import {
  ParquetWriter,
  fileWriter,
  parquetWriteBuffer,
  type SchemaElement,
} from 'hyparquet-writer';
import { normalizeCell, type Layout } from './layout.js';

/** Rows read per chunk: a chunk's raw cells (PNG bytes included) are all that is held at once. */
export const PARQUET_CHUNK_ROWS = 64;

/**
 * Rows [offset, offset + limit) of a Parquet file as plain objects (binary columns as Uint8Array,
 * INT64 as number), in chunks of `chunkRows`: the file is read by byte ranges
 * (hyparquet's asyncBufferFromFile), never whole, so a file larger than memory can be read.
 */
export async function* readParquetChunks(
  path: string,
  range: { offset?: number; limit?: number } = {},
  chunkRows = PARQUET_CHUNK_ROWS,
): AsyncGenerator<{ start: number; rows: Record<string, unknown>[] }> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const total = Number(metadata.num_rows);
  const first = Math.min(range.offset ?? 0, total);
  const end = range.limit === undefined ? total : Math.min(total, first + range.limit);
  for (let start = first; start < end; start += chunkRows) {
    const rows = await parquetReadObjects({
      file,
      metadata,
      utf8: false,
      rowStart: start,
      rowEnd: Math.min(end, start + chunkRows),
    });
    yield { start, rows: rows.map((r) => normalizeCell(r) as Record<string, unknown>) };
  }
}

/** Rows in a Parquet file, from its footer alone. */
export async function parquetRowCount(path: string): Promise<number> {
  return Number((await parquetMetadataAsync(await asyncBufferFromFile(path))).num_rows);
}

/** All rows [offset, offset + limit) of a Parquet file at once (small files, tests). */
export async function readParquetRows(
  path: string,
  range: { offset?: number; limit?: number } = {},
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const chunk of readParquetChunks(path, range)) out.push(...chunk.rows);
  return out;
}

const str = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: 'OPTIONAL',
});
const int = (name: string): SchemaElement => ({ name, type: 'INT32', repetition_type: 'OPTIONAL' });
/** The HF `datasets` Image feature: struct<bytes: binary, path: string>. */
const imageStruct = (name: string): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  str('path'),
];
/** A three-level Parquet LIST of `inner` elements. */
const list = (name: string, inner: SchemaElement[]): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  ...inner,
];
const intList = (name: string) =>
  list(name, [{ name: 'element', type: 'INT32', repetition_type: 'OPTIONAL' }]);

/** Column order and schema per layout; extra visurf columns are optional. */
const TRAIN_COLUMNS: [string, SchemaElement[]][] = [
  ['image', imageStruct('image')],
  ['problem', [str('problem')]],
  ['solution', [str('solution')]],
  ['id', [str('id')]],
  ['task', [str('task')]],
  ['think', [str('think')]],
  ['answer', [str('answer')]],
  ['objects', [str('objects')]],
  ['img_width', [int('img_width')]],
  ['img_height', [int('img_height')]],
];
const EVAL_COLUMNS: [string, SchemaElement[]][] = [
  ['image', imageStruct('image')],
  ['text', [str('text')]],
  ['mask', list('mask', intList('element'))],
  ['bbox', list('bbox', intList('element'))],
  ['img_height', [int('img_height')]],
  ['img_width', [int('img_width')]],
  ['id', [str('id')]],
  ['task', [str('task')]],
];

function schemaOf(layout: Layout, rows: readonly Record<string, unknown>[]) {
  const spec = layout === 'train' ? TRAIN_COLUMNS : EVAL_COLUMNS;
  const present = spec.filter(([name]) =>
    rows.some((r) => r[name] !== undefined && r[name] !== null),
  );
  const schema: SchemaElement[] = [
    { name: 'root', num_children: present.length },
    ...present.flatMap(([, s]) => s),
  ];
  return { names: present.map(([name]) => name), schema };
}

/**
 * Write rows of a layout to Parquet. Eval `mask` is written as 2-D rows of 0/1 and `bbox` as a
 * list of boxes. Columns absent from every row are left out.
 */
export async function writeParquetRows(
  path: string,
  layout: Layout,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  const { names, schema } = schemaOf(layout, rows);
  const columnData = names.map((name) => ({ name, data: rows.map((r) => r[name] ?? null) }));
  const buf = parquetWriteBuffer({ columnData, schema });
  await writeFile(path, new Uint8Array(buf));
}

/**
 * A Parquet file written a row group at a time (each `write` is one), so a dataset larger than
 * memory can be written. The columns are those present in the first rows written; a later row
 * with another column is an error.
 */
export class ParquetRowWriter {
  private writer: ParquetWriter | null = null;
  private names: string[] = [];

  constructor(
    private readonly path: string,
    private readonly layout: Layout,
  ) {}

  write(rows: readonly Record<string, unknown>[]): void {
    if (rows.length === 0) return;
    if (!this.writer) {
      const { names, schema } = schemaOf(this.layout, rows);
      this.names = names;
      this.writer = new ParquetWriter({ writer: fileWriter(this.path), schema });
    }
    for (const [i, r] of rows.entries())
      for (const k of Object.keys(r))
        if (r[k] !== undefined && r[k] !== null && !this.names.includes(k))
          throw new Error(
            `${this.path}: row ${i} of a later batch has column "${k}", absent from the first rows written`,
          );
    const columnData = this.names.map((name) => ({
      name,
      data: rows.map((r) => r[name] ?? null),
    }));
    void this.writer.write({ columnData, rowGroupSize: rows.length });
  }

  /** Finish the file (an empty dataset is written as a file with no columns and no rows). */
  close(): void {
    if (!this.writer)
      this.writer = new ParquetWriter({
        writer: fileWriter(this.path),
        schema: [{ name: 'root', num_children: 0 }],
      });
    this.writer.finish();
  }
}
