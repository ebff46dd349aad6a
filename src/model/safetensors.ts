/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors format).
 *
 * Layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON header, then the
 * data buffer. Header: { "<name>": {dtype, shape, data_offsets: [begin, end]}, ...,
 * "__metadata__": {string: string} }, offsets relative to the start of the data buffer.
 *
 * The reader treats the file as untrusted: the whole header is validated (types, ranges,
 * exact coverage of the data buffer) before any tensor byte is touched, and every problem is a
 * CheckpointError naming the file. Nothing here can read out of bounds: all offsets are checked
 * against the buffer length first, and tensor bytes are copied into fresh aligned arrays.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.js';
import { CheckpointError, describeError } from './checkpoint-error.js';
import {
  KNOWN_SAFETENSORS_DTYPES,
  READABLE_ITEM_SIZE,
  decodeToFloat32,
  encodeInto,
  isReadableDtype,
  storageItemSize,
  type ReadableDtype,
  type StorageDtype,
} from './safetensors-dtype.js';

export type { ReadableDtype, StorageDtype } from './safetensors-dtype.js';

/** A tensor to be written: row-major Float32 data with its shape. */
export interface TensorInput {
  shape: readonly number[];
  data: Float32Array;
}

/** A tensor as read back: always decoded to Float32, with the dtype it was stored as. */
export interface LoadedTensor {
  shape: number[];
  data: Float32Array;
  dtype: ReadableDtype;
}

export interface SafetensorsWriteOptions {
  dtype: StorageDtype;
  metadata?: Record<string, string>;
  /** Label used in error messages (default "(in-memory safetensors)"). */
  source?: string;
}

export interface SafetensorsContents {
  tensors: Record<string, LoadedTensor>;
  metadata: Record<string, string>;
}

/** One validated header entry. */
export interface SafetensorsEntry {
  name: string;
  dtype: ReadableDtype;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Entries in data-buffer order. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data buffer within the file (8 + N). */
  dataStart: number;
}

/** The reference implementation refuses headers above 100 MB; so do we (bounds parse cost). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Define an own property even for keys like "__proto__" (plain assignment would not). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lone UTF-16 surrogates cannot be encoded as UTF-8, so such names cannot round-trip. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function compareUtf8(a: string, b: string): number {
  // The reference sorts names as Rust strings, i.e. by UTF-8 bytes, which differs from JS's
  // UTF-16 code-unit order for characters above U+FFFF.
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Serialise tensors as a safetensors file image. Tensors are laid out sorted by name (the
 * reference orders by dtype alignment, then name; all ours share one dtype), the JSON header is
 * compact with keys in the reference's order and padded with spaces to a multiple of 8 so that
 * the data buffer is 8-byte aligned in the file.
 */
export function writeSafetensors(
  tensors: Record<string, TensorInput>,
  opts: SafetensorsWriteOptions,
): Buffer {
  const source = opts.source ?? '(in-memory safetensors)';
  if (opts.dtype !== 'f32' && opts.dtype !== 'bf16') {
    throw new CheckpointError(
      source,
      `cannot write dtype ${JSON.stringify(opts.dtype)}; use 'f32' or 'bf16'`,
    );
  }
  const dtypeName = opts.dtype === 'f32' ? 'F32' : 'BF16';
  const itemSize = storageItemSize(opts.dtype);
  const names = Object.keys(tensors).sort(compareUtf8);

  const parts: string[] = [];
  if (opts.metadata !== undefined) {
    const keys = Object.keys(opts.metadata).sort(compareUtf8);
    const fields = keys.map((k) => {
      const v = opts.metadata![k];
      if (typeof v !== 'string') {
        throw new CheckpointError(
          source,
          `metadata value for ${JSON.stringify(k)} is not a string`,
        );
      }
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
        throw new CheckpointError(
          source,
          `metadata entry ${JSON.stringify(k)} is not valid Unicode`,
        );
      }
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"${METADATA_KEY}":{${fields.join(',')}}`);
  }

  let offset = 0;
  const layout: { t: TensorInput; begin: number; end: number }[] = [];
  for (const name of names) {
    if (name === METADATA_KEY)
      throw new CheckpointError(source, `"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (LONE_SURROGATE.test(name))
      throw new CheckpointError(source, `tensor name ${JSON.stringify(name)} is not valid Unicode`);
    const t = tensors[name]!;
    if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw new CheckpointError(
        source,
        `tensor "${name}" must be {shape: number[], data: Float32Array}`,
      );
    }
    let numel = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new CheckpointError(
          source,
          `tensor "${name}" has invalid shape ${JSON.stringify(t.shape)}`,
        );
      }
      numel *= d;
    }
    if (numel !== t.data.length) {
      throw new CheckpointError(
        source,
        `tensor "${name}" has shape ${JSON.stringify(t.shape)} (${numel} elements) but ${t.data.length} values`,
      );
    }
    const begin = offset;
    offset += numel * itemSize;
    layout.push({ t, begin, end: offset });
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${dtypeName}","shape":[${t.shape.join(',')}],"data_offsets":[${begin},${offset}]}`,
    );
  }

  const json = `{${parts.join(',')}}`;
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  const headerLen = jsonBytes + ((8 - (jsonBytes % 8)) % 8);
  const out = Buffer.alloc(8 + headerLen + offset, 0x20); // spaces pad the header
  out.writeBigUInt64LE(BigInt(headerLen), 0);
  out.write(json, 8, 'utf8');
  const dataStart = 8 + headerLen;
  for (const { t, begin, end } of layout) {
    encodeInto(t.data, opts.dtype, out.subarray(dataStart + begin, dataStart + end));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parse and fully validate the header of a safetensors file image, without reading data. */
export function parseSafetensorsHeader(buf: Uint8Array, source: string): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new CheckpointError(source, problem);
  };
  if (buf.length < 8) {
    fail(
      `not a safetensors file: ${buf.length} bytes, shorter than the 8-byte header length field`,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    fail(
      `header length field says ${n64} bytes, more than the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`,
    );
  }
  const n = Number(n64);
  if (8 + n > buf.length) {
    fail(
      `header length field says ${n} bytes but only ${buf.length - 8} bytes follow it (file truncated?)`,
    );
  }
  if (n < 2) fail(`header length ${n} is too small to hold a JSON object`);

  let text: string;
  try {
    text = utf8Strict.decode(buf.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${describeError(e).slice(0, 200)})`);
  }
  if (!isPlainObject(header)) fail(`header is not a JSON object (got ${jsonKind(header)})`);
  const h = header as Record<string, unknown>;

  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];

  for (const [name, raw] of Object.entries(h)) {
    if (name === METADATA_KEY) {
      if (raw === null) continue; // the reference serialises an absent map as null
      if (!isPlainObject(raw))
        fail(`"${METADATA_KEY}" must be an object of strings, got ${jsonKind(raw)}`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          fail(`"${METADATA_KEY}" value for ${quote(k)} must be a string, got ${jsonKind(v)}`);
        }
        setOwn(metadata, k, v as string);
      }
      continue;
    }
    const what = `tensor ${quote(name)}`;
    if (!isPlainObject(raw)) fail(`${what}: entry must be an object, got ${jsonKind(raw)}`);
    const info = raw as Record<string, unknown>;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.prototype.hasOwnProperty.call(info, field)) fail(`${what}: missing "${field}"`);
    }
    const dtype = info.dtype;
    if (typeof dtype !== 'string') fail(`${what}: dtype must be a string, got ${jsonKind(dtype)}`);
    const dt = dtype as string;
    if (!KNOWN_SAFETENSORS_DTYPES.has(dt)) fail(`${what}: unknown dtype ${quote(dt)}`);
    if (!isReadableDtype(dt))
      fail(`${what}: dtype ${dt} is not supported (visurf reads F32, BF16, F16)`);
    const itemSize = READABLE_ITEM_SIZE[dt as ReadableDtype];

    const shape = info.shape;
    if (!Array.isArray(shape)) fail(`${what}: shape must be an array, got ${jsonKind(shape)}`);
    const dims = shape as unknown[];
    let numel = 1;
    let hasZero = false;
    for (const d of dims) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        fail(`${what}: shape ${short(shape)} must contain only non-negative integers`);
      }
      if (d === 0) hasZero = true;
    }
    if (hasZero) {
      numel = 0;
    } else {
      for (const d of dims as number[]) {
        if (numel > Number.MAX_SAFE_INTEGER / d)
          fail(`${what}: element count of shape ${short(shape)} overflows`);
        numel *= d;
      }
    }

    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2) {
      fail(`${what}: data_offsets must be [begin, end], got ${short(offs)}`);
    }
    const [begin, end] = offs as unknown[];
    if (
      typeof begin !== 'number' ||
      typeof end !== 'number' ||
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      begin < 0 ||
      end < 0
    ) {
      fail(`${what}: data_offsets ${short(offs)} must be non-negative integers`);
    }
    const b = begin as number;
    const e = end as number;
    if (b > e) fail(`${what}: data_offsets begin ${b} is after end ${e}`);
    if (e > dataLen) {
      fail(
        `${what}: data_offsets end ${e} is beyond the ${dataLen}-byte data buffer (file truncated?)`,
      );
    }
    if (numel > (e - b) / itemSize || numel * itemSize !== e - b) {
      fail(
        `${what}: ${e - b} bytes at data_offsets [${b}, ${e}] but shape ${short(shape)} of ${dt} needs ${numel}×${itemSize} bytes`,
      );
    }
    entries.push({
      name,
      dtype: dt as ReadableDtype,
      shape: (dims as number[]).slice(),
      numel,
      begin: b,
      end: e,
    });
  }

  // The spec forbids holes and overlaps: sorted by offsets, the tensors must tile the data
  // buffer exactly. This also means no byte of the file is unaccounted for.
  entries.sort((x, y) => x.begin - y.begin || x.end - y.end);
  let expected = 0;
  let prev: SafetensorsEntry | undefined;
  for (const en of entries) {
    if (en.begin < expected) {
      fail(
        `tensor ${quote(en.name)} [${en.begin}, ${en.end}] overlaps tensor ${quote(prev!.name)} [${prev!.begin}, ${prev!.end}]`,
      );
    }
    if (en.begin > expected) {
      fail(
        `gap of ${en.begin - expected} unused bytes in the data buffer before tensor ${quote(en.name)} at offset ${en.begin}`,
      );
    }
    expected = en.end;
    prev = en;
  }
  if (expected !== dataLen) {
    fail(
      `${dataLen - expected} trailing bytes after the last tensor are not covered by any tensor`,
    );
  }
  return { entries, metadata, dataStart };
}

/** Read a safetensors file image. Returns fresh Float32Arrays (never views into `buf`). */
export function readSafetensors(buf: Uint8Array, source: string): SafetensorsContents {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(buf, source);
  const tensors: Record<string, LoadedTensor> = {};
  for (const en of entries) {
    const bytes = buf.subarray(dataStart + en.begin, dataStart + en.end);
    setOwn(tensors, en.name, {
      shape: en.shape,
      data: decodeToFloat32(bytes, en.dtype, en.numel),
      dtype: en.dtype,
    });
  }
  return { tensors, metadata };
}

/** Read and validate a safetensors file; I/O problems are CheckpointErrors too. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'file not found' : `cannot read file (${describeError(e)})`;
    throw new CheckpointError(path, problem, { cause: e });
  }
  return readSafetensors(buf, path);
}

/** Write a safetensors file atomically (temp file + fsync + rename). */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, TensorInput>,
  opts: SafetensorsWriteOptions,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(tensors, { source: path, ...opts }));
}

// ---------------------------------------------------------------------------------------------
// Message helpers: keep messages short even when the offending value is huge.

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${short(v)}`;
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // e.g. a pathologically deep array from a hostile header: stringifying it overflows the stack
    return '(unprintable value)';
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function quote(name: string): string {
  return short(name);
}
