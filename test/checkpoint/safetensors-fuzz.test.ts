/**
 * Fuzz the safetensors reader: every mutated input must either load (with self-consistent
 * output) or throw CheckpointError naming the file. Any other exception (RangeError from an
 * out-of-bounds view, TypeError from an unexpected JSON shape) fails the test. Seeded, so a
 * failure reproduces; the case counts are reported in the test names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError } from '../../src/model/checkpoint-error.js';
import { readSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { parseJsonText } from '../../src/model/checkpoint-json.js';
import { randInt, rng } from './helpers.js';

const SOURCE = 'fuzz.safetensors';

interface Tally {
  cases: number;
  loaded: number;
  rejected: number;
}

function check(buf: Uint8Array, tally: Tally, label: string): void {
  tally.cases++;
  let out;
  try {
    out = readSafetensors(buf, SOURCE);
  } catch (e) {
    if (!(e instanceof CheckpointError)) {
      assert.fail(
        `${label}: escaped ${(e as Error)?.name}: ${(e as Error)?.message}\ninput(hex, first 200 bytes): ${Buffer.from(buf).subarray(0, 200).toString('hex')}`,
      );
    }
    assert.ok(e.message.startsWith(`${SOURCE}: `), `${label}: ${e.message}`);
    tally.rejected++;
    return;
  }
  // Loaded: output must be self-consistent.
  for (const [name, t] of Object.entries(out.tensors)) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    assert.equal(t.data.length, numel, `${label}: tensor ${name} data/shape mismatch`);
    assert.ok(t.data instanceof Float32Array);
  }
  for (const v of Object.values(out.metadata)) assert.equal(typeof v, 'string');
  tally.loaded++;
}

function sample(): Buffer {
  const r = rng(7);
  const t = (n: number) => Float32Array.from({ length: n }, () => r() * 4 - 2);
  return writeSafetensors(
    {
      'enc.patch.w': { shape: [3, 4], data: t(12) },
      'dec.b': { shape: [5], data: t(5) },
      s: { shape: [], data: t(1) },
    },
    { dtype: 'bf16', metadata: { format: 'pt', step: '12' } },
  );
}

function headerOf(buf: Buffer): { json: Record<string, unknown>; data: Buffer } {
  const n = Number(buf.readBigUInt64LE(0));
  return { json: JSON.parse(buf.subarray(8, 8 + n).toString('utf8')), data: buf.subarray(8 + n) };
}

function assemble(json: string, data: Uint8Array, pad: number, lenDelta = 0): Buffer {
  const j = Buffer.from(json + ' '.repeat(pad), 'utf8');
  const out = Buffer.alloc(8 + j.length + data.length);
  out.writeBigUInt64LE(BigInt(Math.max(0, j.length + lenDelta)), 0);
  j.copy(out, 8);
  Buffer.from(data).copy(out, 8 + j.length);
  return out;
}

const EVIL_VALUES: unknown[] = [
  -1,
  0,
  1,
  1.5,
  -0,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER,
  '',
  'F32',
  'BF16',
  'F16',
  'I64',
  'F33',
  '1',
  'NaN',
  null,
  true,
  false,
  [],
  [0],
  [1],
  [0, 0],
  [0, 1],
  [1, 0],
  [-1, 2],
  [0, 2 ** 60],
  [[1]],
  [1, 2, 3],
  ['0', '4'],
  [0.5, 4],
  {},
  { dtype: 'F32' },
  { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
  { a: 1 },
  new Array(1000).fill(1),
  new Array(64).fill(2 ** 20),
];

function deep(depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Replace / delete / add one value somewhere in the header object. */
function mutateJson(h: Record<string, unknown>, r: () => number): Record<string, unknown> {
  const copy = structuredClone(h) as Record<string, unknown>;
  const keys = Object.keys(copy);
  const key = keys[randInt(r, keys.length)]!;
  const entry = copy[key] as Record<string, unknown>;
  const evil = () =>
    r() < 0.03
      ? deep(1 + randInt(r, 3000))
      : structuredClone(EVIL_VALUES[randInt(r, EVIL_VALUES.length)]);
  const op = randInt(r, 8);
  if (op === 0) copy[key] = evil();
  else if (op === 1) delete copy[key];
  else if (op === 2) {
    const extraKeys = ['__metadata__', '__proto__', 'constructor', 'x', 'toString', 'dec.b'];
    Object.defineProperty(copy, extraKeys[randInt(r, extraKeys.length)]!, {
      value: evil(),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  } else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    const fields = Object.keys(entry);
    const f = fields[randInt(r, fields.length)];
    if (f === undefined) copy[key] = evil();
    else if (op === 3) delete entry[f];
    else if (op === 4 && Array.isArray(entry[f]) && (entry[f] as unknown[]).length > 0) {
      const arr = entry[f] as unknown[];
      arr[randInt(r, arr.length)] = evil();
    } else if (op === 5 && Array.isArray(entry[f]) && (entry[f] as unknown[]).length > 0) {
      // Off-by-a-little numbers are the interesting boundary cases.
      const arr = entry[f] as number[];
      const i = randInt(r, arr.length);
      if (typeof arr[i] === 'number') arr[i] += randInt(r, 9) - 4;
    } else {
      // Swap a field's value with another entry's same field.
      const other = copy[keys[randInt(r, keys.length)]!] as Record<string, unknown> | null;
      entry[f] = other && typeof other === 'object' && f in other ? other[f] : evil();
    }
  }
  return copy;
}

test('fuzz: truncation at every length is rejected cleanly', () => {
  const buf = sample();
  const tally: Tally = { cases: 0, loaded: 0, rejected: 0 };
  for (let len = 0; len < buf.length; len++) check(buf.subarray(0, len), tally, `truncate ${len}`);
  // Also: extra trailing bytes of every small count.
  for (let extra = 1; extra <= 16; extra++)
    check(Buffer.concat([buf, Buffer.alloc(extra)]), tally, `extend ${extra}`);
  assert.equal(tally.loaded, 0, 'no truncated or extended file may load');
  assert.ok(tally.cases > 100);
  console.log(`truncation/extension cases: ${tally.cases}, all rejected`);
});

test('fuzz: random byte mutations, header-length changes, JSON value swaps, garbage', () => {
  const start = Date.now();
  const base = sample();
  const { json, data } = headerOf(base);
  const headerLen = Number(base.readBigUInt64LE(0));
  const r = rng(12345);
  const counts: Record<string, Tally> = {};
  const run = (kind: string, buf: Uint8Array) => {
    counts[kind] ??= { cases: 0, loaded: 0, rejected: 0 };
    check(buf, counts[kind]!, `${kind} #${counts[kind]!.cases}`);
  };

  // 1. Byte flips: 1-4 positions, 85% inside length field + header, values random or single-bit.
  for (let i = 0; i < 10_000; i++) {
    const b = Buffer.from(base);
    const k = 1 + randInt(r, 4);
    for (let j = 0; j < k; j++) {
      const pos = r() < 0.85 ? randInt(r, 8 + headerLen) : randInt(r, b.length);
      b[pos] = r() < 0.5 ? randInt(r, 256) : b[pos]! ^ (1 << randInt(r, 8));
    }
    run('byte-flip', b);
  }

  // 2. Header-length field: boundary values and random u64s.
  const lens = [
    0n,
    1n,
    2n,
    7n,
    8n,
    BigInt(headerLen - 1),
    BigInt(headerLen + 1),
    BigInt(base.length - 8),
    BigInt(base.length - 7),
    100_000_000n,
    100_000_001n,
    2n ** 32n,
    2n ** 53n,
    2n ** 63n,
    2n ** 64n - 1n,
  ];
  for (let i = 0; i < 1000; i++) {
    const b = Buffer.from(base);
    const v =
      i < lens.length
        ? lens[i]!
        : i % 2
          ? BigInt(randInt(r, base.length + 16))
          : BigInt.asUintN(64, BigInt(Math.floor(r() * 2 ** 52)) << BigInt(randInt(r, 13)));
    b.writeBigUInt64LE(v, 0);
    run('header-length', b);
  }

  // 3. Structured JSON mutations, re-serialised with a correct (or slightly wrong) length.
  for (let i = 0; i < 5000; i++) {
    let h = json;
    let text: string;
    try {
      const steps = 1 + randInt(r, 3);
      for (let s = 0; s < steps; s++) h = mutateJson(h, r);
      text = JSON.stringify(h);
    } catch {
      continue; // deep() can exceed clone/stringify recursion in this generator; skip
    }
    const lenDelta = r() < 0.1 ? randInt(r, 5) - 2 : 0;
    run('json-mutation', assemble(text, data, randInt(r, 8), lenDelta));
  }

  // 4. Raw header text edits: delete/duplicate/insert characters.
  const text = JSON.stringify(json);
  for (let i = 0; i < 3000; i++) {
    const pos = randInt(r, text.length);
    const op = randInt(r, 3);
    const ins = '{}[],:"-0123456789e.\\ \u0000\u00ff\ud800'[randInt(r, 24)]!;
    const t =
      op === 0
        ? text.slice(0, pos) + text.slice(pos + 1)
        : op === 1
          ? text.slice(0, pos) + text[pos] + text.slice(pos)
          : text.slice(0, pos) + ins + text.slice(pos);
    run('text-edit', assemble(t, data, 0));
  }

  // 5. Pure garbage of random lengths, some with a plausible length prefix.
  for (let i = 0; i < 500; i++) {
    const b = Buffer.alloc(randInt(r, 200));
    for (let j = 0; j < b.length; j++) b[j] = randInt(r, 256);
    if (b.length >= 8 && r() < 0.5) b.writeBigUInt64LE(BigInt(randInt(r, b.length)), 0);
    run('garbage', b);
  }

  // 6. A hostile-but-valid-JSON header: 10^5-deep nesting as a tensor entry.
  const nest = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  run('deep-nesting', assemble(`{"x":${nest}}`, new Uint8Array(0), 0));
  run(
    'deep-nesting',
    assemble(`{"x":{"dtype":"F32","shape":${nest},"data_offsets":[0,0]}}`, new Uint8Array(0), 0),
  );
  run('deep-nesting', assemble(`{"__metadata__":{"a":${nest}}}`, new Uint8Array(0), 0));

  const total = Object.values(counts).reduce((a, t) => a + t.cases, 0);
  const elapsed = Date.now() - start;
  for (const [k, t] of Object.entries(counts))
    console.log(`${k}: ${t.cases} cases, ${t.loaded} loaded, ${t.rejected} rejected`);
  console.log(`total ${total} mutated inputs in ${elapsed} ms`);
  assert.ok(total >= 19_000, `ran ${total} cases`);
  assert.ok(counts['json-mutation']!.rejected > 3000, 'mutations should mostly be caught');
  assert.ok(elapsed < 10_000, `fuzzing took ${elapsed} ms`);
});

test('fuzz: checkpoint JSON parser only ever throws CheckpointError', () => {
  const base = JSON.stringify(
    {
      model: { dim: 64, layers: [1, 2, { heads: 4 }] },
      name: 'tiny',
      rope: 1e4,
      flag: true,
      none: null,
    },
    null,
    2,
  );
  const r = rng(99);
  let rejected = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    let t = base;
    for (let k = 1 + randInt(r, 3); k > 0; k--) {
      const pos = randInt(r, t.length + 1);
      const ch = '{}[],:"\\ntu0-.e \n\u0001'[randInt(r, 19)]!;
      t = r() < 0.5 ? t.slice(0, pos) + t.slice(pos + 1) : t.slice(0, pos) + ch + t.slice(pos);
    }
    try {
      parseJsonText(t, 'config.json');
    } catch (e) {
      assert.ok(e instanceof CheckpointError, `escaped ${String(e)}`);
      assert.match(e.message, /^config\.json: (invalid JSON at line \d+, column \d+|empty file)/);
      rejected++;
    }
  }
  console.log(`config JSON mutations: ${n} cases, ${rejected} rejected`);
});
