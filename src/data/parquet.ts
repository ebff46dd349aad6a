/** Parquet reading and writing of dataset rows (hyparquet / hyparquet-writer), with explicit schemas. */
import { readFile, writeFile } from 'node:fs/promises';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { normalizeCell, type Layout } from './layout.js';

/**
 * Read rows [offset, offset + limit) of a Parquet file as plain objects (binary columns as
 * Uint8Array, INT64 as number); all rows by default.
 */
export async function readParquetRows(
  path: string,
  range: { offset?: number; limit?: number } = {},
): Promise<Record<string, unknown>[]> {
  const buf = await readFile(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const rowStart = range.offset ?? 0;
  const rows = await parquetReadObjects({
    file,
    utf8: false,
    rowStart,
    ...(range.limit !== undefined ? { rowEnd: rowStart + range.limit } : {}),
  });
  return rows.map((r) => normalizeCell(r) as Record<string, unknown>);
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

/**
 * Write rows of a layout to Parquet. Eval `mask` is written as 2-D rows of 0/1 and `bbox` as a
 * list of boxes. Columns absent from every row are left out.
 */
export async function writeParquetRows(
  path: string,
  layout: Layout,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  const spec = layout === 'train' ? TRAIN_COLUMNS : EVAL_COLUMNS;
  const present = spec.filter(([name]) =>
    rows.some((r) => r[name] !== undefined && r[name] !== null),
  );
  const schema: SchemaElement[] = [
    { name: 'root', num_children: present.length },
    ...present.flatMap(([, s]) => s),
  ];
  const columnData = present.map(([name]) => ({ name, data: rows.map((r) => r[name] ?? null) }));
  const buf = parquetWriteBuffer({ columnData, schema });
  await writeFile(path, new Uint8Array(buf));
}
