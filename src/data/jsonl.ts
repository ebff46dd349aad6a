/**
 * JSONL datasets: one JSON object per line. Images are file paths (relative to the JSONL file's
 * folder) or `{bytes: <base64>, path}` structs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { RowError } from './layout.js';

export interface JsonlRead {
  rows: (Record<string, unknown> | null)[];
  /** One entry per line that is not a JSON object (its row slot is null). */
  errors: RowError[];
}

/** Parse a JSONL file; blank lines are skipped. Image structs' base64 `bytes` become Uint8Array. */
export async function readJsonlRows(path: string): Promise<JsonlRead> {
  const text = await readFile(path, 'utf8');
  const rows: (Record<string, unknown> | null)[] = [];
  const errors: RowError[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const index = rows.length;
    try {
      const v: unknown = JSON.parse(line);
      if (!v || typeof v !== 'object' || Array.isArray(v))
        throw new Error('line is not a JSON object');
      const row = v as Record<string, unknown>;
      const img = row['image'];
      if (
        img &&
        typeof img === 'object' &&
        typeof (img as Record<string, unknown>)['bytes'] === 'string'
      ) {
        row['image'] = {
          ...(img as object),
          bytes: new Uint8Array(Buffer.from((img as Record<string, string>)['bytes']!, 'base64')),
        };
      }
      rows.push(row);
    } catch (err) {
      rows.push(null);
      errors.push({
        file: path,
        row: index,
        field: '(row)',
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return { rows, errors };
}

/** Rows as JSONL text, one line each; Uint8Array values are written as base64 strings. */
export function jsonlText(rows: readonly Record<string, unknown>[]): string {
  const lines = rows.map((r) =>
    JSON.stringify(r, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    ),
  );
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** Write rows as JSONL. */
export async function writeJsonlRows(
  path: string,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  await writeFile(path, jsonlText(rows));
}
