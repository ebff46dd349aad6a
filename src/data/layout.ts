/**
 * The Seg-Zero / VisionReasoner dataset layouts and their row validation.
 * - training: `image`, `problem`, `solution` (+ optional visurf extras: id, task, think, answer,
 *   objects, img_width, img_height, which let generated samples round-trip exactly);
 * - evaluation: `image`, `text`, `mask`, `bbox`, `img_height`, `img_width`.
 * `image` is an HF image struct `{bytes, path}` or a file path string.
 */
import { z } from 'zod';

export type Layout = 'train' | 'eval';

/** An image cell: HF struct (bytes and/or path) or a bare path. */
export type ImageCell = { bytes?: Uint8Array | null; path?: string | null } | string;

const bytesLike = z.custom<Uint8Array>(
  (v) => v instanceof Uint8Array,
  'image bytes must be binary',
);
export const imageCellSchema = z.union([
  z.string().min(1, 'empty image path'),
  z
    .object({ bytes: bytesLike.nullish(), path: z.string().nullish() })
    .refine(
      (v) => (v.bytes && v.bytes.length > 0) || (typeof v.path === 'string' && v.path.length > 0),
      'image struct has neither bytes nor path',
    ),
]);

const finite = z.number().finite();
/** A mask: 2-D rows of 0/1 (or booleans), a flat list, or an image struct of a greyscale PNG. */
export const maskCellSchema = z.union([
  z.array(z.array(z.union([finite, z.boolean()]))),
  z.array(z.union([finite, z.boolean()])),
  imageCellSchema,
]);
/** One box `[x1, y1, x2, y2]` or a list of them. */
export const bboxCellSchema = z.union([
  z.array(finite).length(4),
  z.array(z.array(finite).length(4)),
]);

export const trainRowSchema = z.object({
  image: imageCellSchema,
  problem: z.string(),
  solution: z.string().min(1, 'empty solution'),
  id: z.string().nullish(),
  task: z.string().nullish(),
  think: z.string().nullish(),
  answer: z.string().nullish(),
  objects: z.string().nullish(),
  img_width: z.number().int().positive().nullish(),
  img_height: z.number().int().positive().nullish(),
});
export type TrainRow = z.infer<typeof trainRowSchema>;

export const evalRowSchema = z.object({
  image: imageCellSchema,
  text: z.string(),
  mask: maskCellSchema,
  bbox: bboxCellSchema,
  img_height: z.number().int().positive(),
  img_width: z.number().int().positive(),
  id: z.string().nullish(),
  task: z.string().nullish(),
});
export type EvalRow = z.infer<typeof evalRowSchema>;

/** Where a row went wrong: file, 0-based row index, field name and why. */
export interface RowError {
  file: string;
  row: number;
  field: string;
  message: string;
}

export function formatRowError(e: RowError): string {
  return `${e.file}: row ${e.row}: field "${e.field}": ${e.message}`;
}

/** Parquet readers return INT64 as bigint; rows are normalised to plain numbers (deeply). */
export function normalizeCell(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(normalizeCell);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalizeCell(x);
    return out;
  }
  return v;
}

/**
 * Which layout a dataset's columns describe (the union of all rows' columns), or null when
 * neither fits. Training wins when `problem` or `solution` appears; evaluation when `text`,
 * `mask` or `bbox` does. Rows missing a column of their layout are then reported individually.
 */
export function detectLayout(columns: readonly string[]): Layout | null {
  const has = (c: string) => columns.includes(c);
  if (has('problem') || has('solution')) return 'train';
  if (has('text') || has('mask') || has('bbox')) return 'eval';
  return null;
}

/** Validate one row against a layout; the first problem found, or null when the row is fine. */
export function validateRow(
  row: unknown,
  layout: Layout,
  file: string,
  index: number,
): RowError | null {
  const schema = layout === 'train' ? trainRowSchema : evalRowSchema;
  const r = schema.safeParse(normalizeCell(row));
  if (r.success) return null;
  const issue = r.error.issues[0]!;
  return {
    file,
    row: index,
    field: issue.path.length ? issue.path.map(String).join('.') : '(row)',
    message: issue.message,
  };
}
