/** Conversion between generated Samples and dataset rows of either layout. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { solutionAnswer } from '../rewards/dispatch.js';
import {
  canonicalAnswer,
  asBox,
  asPoint,
  formatAnswerObjects,
  parseAnswerObjects,
  safeJsonParse,
  type Box,
  type Point,
} from '../rewards/parse.js';
import { boxMask, maskBox, maskPoint, type Mask, type RgbImage } from '../tasks/image.js';
import { isTaskName } from '../tasks/registry.js';
import type { GroundTruthObject, Sample, TaskName } from '../tasks/types.js';
import { decodeImage, encodePng } from './codec.js';
import type { EvalRow, ImageCell, TrainRow } from './layout.js';
import { decodeMaskRle, encodeMaskRle } from './rle.js';

export interface RowContext {
  /** Folder that relative image paths are resolved against. */
  baseDir: string;
  /** Row index, used for ids of rows that carry none. */
  index: number;
  /** Task assumed for rows without a valid `task` column (default 'refer'). */
  defaultTask?: TaskName;
  /** Prefix of ids made up for rows without an `id` column. */
  idPrefix?: string;
}

/** Image bytes of a cell: its struct bytes, else the file at its path. */
export async function imageCellBytes(cell: ImageCell, baseDir: string): Promise<Uint8Array> {
  const path = typeof cell === 'string' ? cell : (cell.path ?? null);
  if (typeof cell !== 'string' && cell.bytes && cell.bytes.length > 0) return cell.bytes;
  if (!path) throw new Error('image has neither bytes nor path');
  const buf = await readFile(isAbsolute(path) ? path : join(baseDir, path));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export async function decodeImageCell(cell: ImageCell, baseDir: string): Promise<RgbImage> {
  return decodeImage(await imageCellBytes(cell, baseDir));
}

/** Ground-truth objects from a solution string when a row has no `objects` column: box masks. */
function objectsFromSolution(solution: string, width: number, height: number): GroundTruthObject[] {
  const parsed = parseAnswerObjects(solutionAnswer(solution));
  if (!parsed.ok) return [];
  return parsed.objects.flatMap((o) => {
    if (!o.bbox) return [];
    const point: Point = o.point ?? [
      Math.round((o.bbox[0] + o.bbox[2]) / 2),
      Math.round((o.bbox[1] + o.bbox[3]) / 2),
    ];
    return [{ box: o.bbox, point, mask: boxMask(o.bbox, width, height) }];
  });
}

interface StoredObject {
  bbox_2d: Box;
  point_2d: Point;
  mask_rle: number[];
}

function decodeStoredObjects(json: string, width: number, height: number): GroundTruthObject[] {
  const parsed = safeJsonParse(json, 16 * 1024 * 1024, 8);
  if (!parsed.ok || !Array.isArray(parsed.value))
    throw new Error(
      `objects column is not a JSON list: ${parsed.ok ? 'not a list' : parsed.error}`,
    );
  return (parsed.value as unknown[]).map((v, i) => {
    const o = v as Partial<StoredObject>;
    const box = asBox(o.bbox_2d),
      point = asPoint(o.point_2d);
    if (!box || !point || !Array.isArray(o.mask_rle))
      throw new Error(`objects[${i}] needs bbox_2d, point_2d and mask_rle`);
    return { box, point, mask: decodeMaskRle(o.mask_rle, width * height) };
  });
}

/** A training-layout row of a sample (PNG image struct, visurf extras included). */
export async function sampleToTrainRow(sample: Sample): Promise<TrainRow> {
  const stored: StoredObject[] = sample.objects.map((o) => ({
    bbox_2d: o.box,
    point_2d: o.point,
    mask_rle: encodeMaskRle(o.mask),
  }));
  return {
    image: { bytes: await encodePng(sample.image), path: `${sample.id}.png` },
    problem: sample.prompt,
    solution: sample.solution,
    id: sample.id,
    task: sample.task,
    think: sample.think,
    answer: sample.answer,
    objects: JSON.stringify(stored),
    img_width: sample.image.width,
    img_height: sample.image.height,
  };
}

/** A sample from a (validated) training-layout row; rows from other tools get box masks from their solution. */
export async function trainRowToSample(row: TrainRow, ctx: RowContext): Promise<Sample> {
  const image = await decodeImageCell(row.image as ImageCell, ctx.baseDir);
  const task: TaskName = isTaskName(row.task) ? row.task : (ctx.defaultTask ?? 'refer');
  const objects = row.objects
    ? decodeStoredObjects(row.objects, image.width, image.height)
    : objectsFromSolution(row.solution, image.width, image.height);
  return {
    id: row.id ?? `${ctx.idPrefix ?? 'row'}-${ctx.index}`,
    task,
    image,
    prompt: row.problem,
    solution: row.solution,
    answer: row.answer ?? canonicalAnswer(solutionAnswer(row.solution)),
    objects,
    think: row.think ?? '',
  };
}

/** Mask rows (2-D 0/1) of the union of a sample's object masks. */
function maskRows(mask: Mask, width: number, height: number): number[][] {
  return Array.from({ length: height }, (_, y) =>
    Array.from(mask.subarray(y * width, (y + 1) * width)),
  );
}

/** An evaluation-layout row of a sample: union mask as 2-D rows, one box per object. */
export async function sampleToEvalRow(sample: Sample): Promise<EvalRow> {
  const { width, height } = sample.image;
  const union = new Uint8Array(width * height);
  for (const o of sample.objects)
    for (let p = 0; p < union.length; p++) if (o.mask[p]) union[p] = 1;
  return {
    image: { bytes: await encodePng(sample.image), path: `${sample.id}.png` },
    text: sample.prompt,
    mask: maskRows(union, width, height),
    bbox: sample.objects.map((o) => [...o.box]),
    img_height: height,
    img_width: width,
    id: sample.id,
    task: sample.task,
  };
}

/** A flat 0/1 mask from any accepted mask cell. */
async function maskFromCell(
  cell: EvalRow['mask'],
  width: number,
  height: number,
  baseDir: string,
): Promise<Mask> {
  const size = width * height;
  if (Array.isArray(cell)) {
    const flat = (cell as unknown[]).flat() as (number | boolean)[];
    if (flat.length !== size) throw new Error(`mask has ${flat.length} pixels, image has ${size}`);
    return Uint8Array.from(flat, (v) => (v ? 1 : 0));
  }
  const img = await decodeImageCell(cell as ImageCell, baseDir);
  if (img.width !== width || img.height !== height)
    throw new Error(`mask image is ${img.width}x${img.height}, image is ${width}x${height}`);
  return Uint8Array.from({ length: size }, (_, p) => (img.data[p * 3]! > 127 ? 1 : 0));
}

/**
 * A sample from a (validated) evaluation-layout row. Each box's object mask is the row mask
 * restricted to that box; its point is the mask pixel nearest the mask centroid.
 */
export async function evalRowToSample(row: EvalRow, ctx: RowContext): Promise<Sample> {
  const image = await decodeImageCell(row.image as ImageCell, ctx.baseDir);
  if (image.width !== row.img_width || image.height !== row.img_height)
    throw new Error(
      `image is ${image.width}x${image.height} but img_width/img_height say ${row.img_width}x${row.img_height}`,
    );
  const mask = await maskFromCell(row.mask, image.width, image.height, ctx.baseDir);
  const boxes: Box[] = (
    row.bbox.length > 0 && Array.isArray(row.bbox[0])
      ? (row.bbox as number[][])
      : row.bbox.length
        ? [row.bbox as number[]]
        : []
  ).map((b) => [b[0]!, b[1]!, b[2]!, b[3]!]);
  const objects: GroundTruthObject[] = boxes.map((box) => {
    const inBox = boxMask(box, image.width, image.height);
    for (let p = 0; p < inBox.length; p++) inBox[p] = inBox[p]! & mask[p]!;
    const m = maskBox(inBox, image.width) ? inBox : boxMask(box, image.width, image.height);
    const point = maskPoint(m, image.width) ?? [
      Math.round((box[0] + box[2]) / 2),
      Math.round((box[1] + box[3]) / 2),
    ];
    return { box, point, mask: m };
  });
  const solution = formatAnswerObjects(objects.map((o) => ({ bbox: o.box, point: o.point })));
  return {
    id: row.id ?? `${ctx.idPrefix ?? 'row'}-${ctx.index}`,
    task: isTaskName(row.task) ? row.task : (ctx.defaultTask ?? 'refer'),
    image,
    prompt: row.text,
    solution,
    answer: solution,
    objects,
    think: '',
  };
}
