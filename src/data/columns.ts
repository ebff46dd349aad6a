/**
 * Column mapping (`data.columns`, like EasyR1's prompt_key / image_key / answer_key): a file whose
 * columns have other names is read as if they had the layouts' names. The map goes from a layout
 * column (layout.ts) to the file's column, e.g. `{ problem: "question", image: "img" }`; errors
 * name the file's own column.
 */
import { evalRowSchema, trainRowSchema } from './layout.js';

/** From a layout column to the file's column of that content. */
export type ColumnMap = Readonly<Record<string, string>>;

/** Every column either layout knows. */
export const LAYOUT_COLUMNS: readonly string[] = [
  ...new Set([...Object.keys(trainRowSchema.shape), ...Object.keys(evalRowSchema.shape)]),
];

/** Problems of a column map (unknown layout columns, two columns mapped from one), or []. */
export function columnMapProblems(map: ColumnMap): string[] {
  const problems: string[] = [];
  for (const k of Object.keys(map))
    if (!LAYOUT_COLUMNS.includes(k))
      problems.push(`"${k}" is not a layout column (expected one of ${LAYOUT_COLUMNS.join(', ')})`);
  const seen = new Map<string, string>();
  for (const [k, v] of Object.entries(map)) {
    const other = seen.get(v);
    if (other !== undefined) problems.push(`"${other}" and "${k}" both read column "${v}"`);
    seen.set(v, k);
  }
  return problems;
}

/** A row with the file's columns renamed to the layout's (other columns kept, unmapped ones dropped). */
export function renameColumns(
  row: Record<string, unknown>,
  map: ColumnMap,
): Record<string, unknown> {
  const entries = Object.entries(map);
  if (entries.length === 0) return row;
  const taken = new Set(entries.map(([, file]) => file));
  const out: Record<string, unknown> = {};
  // a file column named like a mapped layout column is shadowed by the mapping, not mixed in
  for (const [k, v] of Object.entries(row)) if (!taken.has(k) && !(k in map)) out[k] = v;
  for (const [layout, file] of entries) if (file in row) out[layout] = row[file];
  return out;
}

/** The file's name for an error's field (its first path segment is a layout column). */
export function fileField(field: string, map: ColumnMap): string {
  const [head, ...rest] = field.split('.');
  const file = head !== undefined ? map[head] : undefined;
  return file === undefined ? field : [file, ...rest].join('.');
}
