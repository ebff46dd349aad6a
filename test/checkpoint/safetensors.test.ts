import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import {
  readSafetensors,
  readSafetensorsFile,
  writeSafetensors,
  writeSafetensorsFile,
} from '../../src/model/safetensors.js';
import { f32BitsToBf16Bits, roundToBf16 } from '../../src/model/safetensors-dtype.js';
import {
  assertCheckpointError,
  assertRejectsCheckpointError,
  bitsOf,
  fromBits,
  rng,
  withTempDir,
} from './helpers.js';

const SPECIAL_BITS = [
  0x00000000, // +0
  0x80000000, // -0
  0x3f800000, // 1
  0xbf800000, // -1
  0x00000001, // smallest subnormal
  0x007fffff, // largest subnormal
  0x80000001, // negative subnormal
  0x00800000, // smallest normal
  0x7f7fffff, // max finite
  0xff7fffff, // -max finite
  0x7f800000, // +Inf
  0xff800000, // -Inf
  0x3eaaaaab, // 1/3
];
const NAN_BITS = [0x7fc00000, 0x7f800001, 0xffc00001, 0x7fffffff];

function isNaNBits(b: number): boolean {
  return (b & 0x7fffffff) > 0x7f800000;
}

test('f32 round trip is bit-identical (-0, subnormals, Inf) and NaN stays NaN', () => {
  const r = rng(1);
  const random: number[] = [];
  for (let i = 0; i < 10_000; i++) random.push(Math.floor(r() * 2 ** 32));
  const bits = [...SPECIAL_BITS, ...NAN_BITS, ...random];
  const data = fromBits(bits);
  const buf = writeSafetensors({ x: { shape: [bits.length], data } }, { dtype: 'f32' });
  const back = readSafetensors(buf, 'rt.safetensors').tensors.x!;
  assert.equal(back.dtype, 'F32');
  assert.deepEqual(back.shape, [bits.length]);
  const got = bitsOf(back.data);
  for (let i = 0; i < bits.length; i++) {
    if (isNaNBits(bits[i]!)) assert.ok(Number.isNaN(back.data[i]), `element ${i} should be NaN`);
    else
      assert.equal(
        got[i],
        bits[i],
        `element ${i}: ${got[i]!.toString(16)} != ${bits[i]!.toString(16)}`,
      );
  }
});

test('round trip of several tensors, scalar and empty shapes, subarray inputs', () => {
  const backing = new Float32Array([9, 1, 2, 3, 4, 5, 6, 9]);
  const tensors = {
    'layer.0.w': { shape: [2, 3], data: backing.subarray(1, 7) },
    scalar: { shape: [], data: new Float32Array([42]) },
    empty: { shape: [0], data: new Float32Array(0) },
    empty2: { shape: [2, 0, 3], data: new Float32Array(0) },
  };
  const { tensors: back, metadata } = readSafetensors(
    writeSafetensors(tensors, { dtype: 'f32', metadata: { note: 'hi', ünï: 'cødé' } }),
    'multi.safetensors',
  );
  assert.deepEqual(metadata, { note: 'hi', ünï: 'cødé' });
  assert.deepEqual(Object.keys(back).sort(), Object.keys(tensors).sort());
  for (const [k, t] of Object.entries(tensors)) {
    assert.deepEqual(back[k]!.shape, t.shape);
    assert.deepEqual([...back[k]!.data], [...t.data]);
  }
});

/** Independent bf16 rounding: pick the nearer of the two bf16 neighbours by exact value. */
function referenceBf16(bits: number): number {
  if (isNaNBits(bits)) return NaN;
  const value = (b: number) => fromBits([b >>> 0])[0]!;
  const x = value(bits);
  const lo = (bits & 0xffff0000) >>> 0;
  if (lo === bits >>> 0) return x;
  const loVal = value(lo);
  const hiVal = value(lo + 0x10000); // next pattern away from zero (Inf past max finite)
  // Differences of neighbouring floats are exact in float64; past max finite, RNE treats the
  // overflow pattern as if it were 2^128.
  const hiMag = Number.isFinite(hiVal) ? hiVal : Math.sign(x) * 2 ** 128;
  const dLo = Math.abs(x - loVal);
  const dHi = Math.abs(hiMag - x);
  if (dLo !== dHi) return dLo < dHi ? loVal : hiVal;
  return (lo >>> 16) & 1 ? hiVal : loVal;
}

test('bf16 rounds to nearest, ties to even (hand-checked cases)', () => {
  const cases: [number, number][] = [
    [0x3f800000, 0x3f80], // 1.0 exact
    [0x3f808000, 0x3f80], // tie, even below -> down
    [0x3f818000, 0x3f82], // tie, odd below -> up to even
    [0x3f808001, 0x3f81], // just above tie -> up
    [0x3f807fff, 0x3f80], // just below tie -> down
    [0xbf818000, 0xbf82], // negative tie -> even (magnitude up)
    [0x7f7fffff, 0x7f80], // max finite rounds to +Inf
    [0x7f7f7fff, 0x7f7f], // just below the overflow tie stays finite
    [0x00008000, 0x0000], // subnormal tie -> even (zero)
    [0x00018000, 0x0002], // subnormal tie -> even (up)
    [0x80000000, 0x8000], // -0 keeps its sign
    [0x7f800000, 0x7f80], // +Inf
    [0xff800000, 0xff80], // -Inf
  ];
  for (const [f, h] of cases) assert.equal(f32BitsToBf16Bits(f), h, `f32 ${f.toString(16)}`);
  // NaN whose payload lives only in the low 16 bits must not turn into Inf.
  for (const n of NAN_BITS) {
    const h = f32BitsToBf16Bits(n);
    assert.ok(
      (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0,
      `NaN ${n.toString(16)} -> ${h.toString(16)}`,
    );
  }
});

test('bf16 write/read equals round-to-nearest-even of the input', () => {
  const r = rng(2);
  const bits = [...SPECIAL_BITS, ...NAN_BITS];
  for (let i = 0; i < 20_000; i++) bits.push(Math.floor(r() * 2 ** 32));
  const data = fromBits(bits);
  const buf = writeSafetensors({ w: { shape: [bits.length], data } }, { dtype: 'bf16' });
  assert.equal(buf.length, 8 + Number(buf.readBigUInt64LE(0)) + 2 * bits.length);
  const back = readSafetensors(buf, 'bf16.safetensors').tensors.w!;
  assert.equal(back.dtype, 'BF16');
  const rounded = roundToBf16(data);
  for (let i = 0; i < bits.length; i++) {
    const want = referenceBf16(bits[i]!);
    if (Number.isNaN(want)) {
      assert.ok(Number.isNaN(back.data[i]));
      continue;
    }
    assert.ok(
      Object.is(back.data[i], want),
      `bits ${bits[i]!.toString(16)}: got ${back.data[i]}, want ${want}`,
    );
    assert.ok(Object.is(rounded[i], want));
  }
});

test('writer output matches the format byte for byte (hand-checked header)', () => {
  const buf = writeSafetensors(
    {
      b: { shape: [2], data: new Float32Array([1, -2]) },
      a: { shape: [1], data: new Float32Array([0.5]) },
    },
    { dtype: 'f32', metadata: { format: 'pt' } },
  );
  const json =
    '{"__metadata__":{"format":"pt"},' +
    '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
    '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
  assert.equal(json.length, 139);
  // 139 bytes of JSON + 5 spaces = 144 = 0x90, so data starts 8-byte aligned at 152.
  assert.deepEqual([...buf.subarray(0, 8)], [0x90, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(buf.subarray(8, 152).toString('latin1'), json + '     ');
  assert.deepEqual(
    [...buf.subarray(152)],
    [
      0x00, 0x00, 0x00, 0x3f, /* 0.5 */ 0x00, 0x00, 0x80, 0x3f, /* 1 */ 0x00, 0x00, 0x00,
      0xc0 /* -2 */,
    ],
  );
  assert.equal(buf.length, 164);

  // The reference implementation's own layout for one f32 tensor: 65-byte JSON padded to 72.
  const ref = writeSafetensors(
    { attn0: { shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } },
    { dtype: 'f32' },
  );
  assert.deepEqual([...ref.subarray(0, 8)], [72, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(
    ref.subarray(8, 80).toString('latin1'),
    '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + ' '.repeat(7),
  );

  // bf16: 55-byte JSON + 1 space; 1.0 -> 0x3f80, -0 -> 0x8000 (little-endian).
  const bf = writeSafetensors(
    { w: { shape: [2], data: new Float32Array([1, -0]) } },
    { dtype: 'bf16' },
  );
  assert.deepEqual([...bf.subarray(0, 8)], [56, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(
    bf.subarray(8, 64).toString('latin1'),
    '{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}} ',
  );
  assert.deepEqual([...bf.subarray(64)], [0x80, 0x3f, 0x00, 0x80]);

  // No tensors at all: "{}" padded to 8.
  assert.deepEqual(
    [...writeSafetensors({}, { dtype: 'f32' })],
    [8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32],
  );
});

/** Build a file image from a header (object or raw JSON text) and data bytes. */
function build(header: unknown, data: number[] | Uint8Array, headerLen?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(headerLen ?? BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return out;
}

test('loads a hand-built file with a different layout (unsorted buffer, unaligned data, F16, metadata)', () => {
  const f32 = Buffer.alloc(8);
  f32.writeFloatLE(1.5, 0);
  f32.writeFloatLE(-0.0, 4);
  const bf16 = [0x80, 0x3f, 0xc0, 0x7f]; // 1.0, NaN
  const f16 = [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x7c, 0x00, 0x80]; // 1, -2, 65504, 2^-24, Inf, -0
  // Header: entries out of offset order, keys in another order, extra whitespace, no padding
  // (so the data buffer starts at an odd file offset).
  const header =
    '{\n  "z.f32": {"data_offsets": [16, 24], "shape": [2], "dtype": "F32"},\n' +
    '  "a.f16": {"shape": [2, 3], "dtype": "F16", "data_offsets": [4, 16]},\n' +
    '  "__metadata__": {"format": "pt", "origin": "hand"},\n' +
    '  "m.bf16": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}\n}';
  assert.equal(Buffer.byteLength(header) % 2, 1, 'want an odd header length for unaligned data');
  const buf = build(header, [...bf16, ...f16, ...f32]);
  const { tensors, metadata } = readSafetensors(buf, 'hand.safetensors');
  assert.deepEqual(metadata, { format: 'pt', origin: 'hand' });
  assert.deepEqual(tensors['z.f32']!.shape, [2]);
  assert.ok(Object.is(tensors['z.f32']!.data[0], 1.5) && Object.is(tensors['z.f32']!.data[1], -0));
  assert.equal(tensors['m.bf16']!.data[0], 1);
  assert.ok(Number.isNaN(tensors['m.bf16']!.data[1]));
  assert.equal(tensors['a.f16']!.dtype, 'F16');
  assert.deepEqual([...tensors['a.f16']!.data], [1, -2, 65504, 2 ** -24, Infinity, -0]);
  assert.ok(Object.is(tensors['a.f16']!.data[5], -0));

  // A "__proto__" tensor name is data, not a prototype change.
  const p = readSafetensors(
    build('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0x80, 0x3f]),
    'p.safetensors',
  );
  assert.equal(Object.getPrototypeOf(p.tensors), Object.prototype);
  assert.deepEqual([...Object.getOwnPropertyDescriptor(p.tensors, '__proto__')!.value.data], [1]);
  // "__metadata__": null is how the reference writes an absent map.
  assert.deepEqual(
    readSafetensors(build('{"__metadata__":null}', []), 'n.safetensors').metadata,
    {},
  );
});

test('every malformed case is a CheckpointError naming the file and the problem', () => {
  const F = 'bad.safetensors';
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const d8 = new Array(8).fill(0);
  const cases: [string, () => Buffer, RegExp][] = [
    ['empty file', () => Buffer.alloc(0), /0 bytes, shorter than the 8-byte header length field/],
    ['7 bytes', () => Buffer.alloc(7), /7 bytes, shorter than/],
    [
      'header length beyond file',
      () => build({ x: ok }, d8, 1000n),
      /says 1000 bytes but only \d+ bytes follow/,
    ],
    [
      'absurd header length',
      () => build({ x: ok }, d8, 2n ** 40n),
      /more than the 100000000-byte limit/,
    ],
    [
      'u64 max header length',
      () => build({ x: ok }, d8, 2n ** 64n - 1n),
      /more than the 100000000-byte limit/,
    ],
    ['header length 0', () => build('', []), /too small/],
    [
      'invalid UTF-8',
      () => build(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'), []).fill(0xff, 9, 11),
      /not valid UTF-8/,
    ],
    ['not JSON', () => build('{"x": ', []), /not valid JSON/],
    ['JSON array', () => build('[1,2]', []), /not a JSON object \(got an array\)/],
    ['JSON string', () => build('"hello"', []), /not a JSON object \(got string/],
    ['JSON null', () => build('null', []), /not a JSON object \(got null\)/],
    ['entry not an object', () => build({ x: [1] }, []), /tensor "x": entry must be an object/],
    [
      'missing dtype',
      () => build({ x: { shape: [2], data_offsets: [0, 8] } }, d8),
      /tensor "x": missing "dtype"/,
    ],
    [
      'missing shape',
      () => build({ x: { dtype: 'F32', data_offsets: [0, 8] } }, d8),
      /missing "shape"/,
    ],
    [
      'missing data_offsets',
      () => build({ x: { dtype: 'F32', shape: [2] } }, d8),
      /missing "data_offsets"/,
    ],
    ['unknown dtype', () => build({ x: { ...ok, dtype: 'F33' } }, d8), /unknown dtype "F33"/],
    [
      'unsupported dtype',
      () => build({ x: { ...ok, dtype: 'I64', shape: [1] } }, d8),
      /dtype I64 is not supported/,
    ],
    [
      'dtype not a string',
      () => build({ x: { ...ok, dtype: 4 } }, d8),
      /dtype must be a string, got number 4/,
    ],
    ['shape not an array', () => build({ x: { ...ok, shape: 2 } }, d8), /shape must be an array/],
    ['negative dim', () => build({ x: { ...ok, shape: [-2] } }, d8), /non-negative integers/],
    ['fractional dim', () => build({ x: { ...ok, shape: [1.5] } }, d8), /non-negative integers/],
    ['string dim', () => build({ x: { ...ok, shape: ['2'] } }, d8), /non-negative integers/],
    ['unsafe dim', () => build({ x: { ...ok, shape: [2 ** 53] } }, d8), /non-negative integers/],
    [
      'element count overflow',
      () => build({ x: { ...ok, shape: [2 ** 26, 2 ** 26, 2 ** 26] } }, d8),
      /element count .* overflows/,
    ],
    [
      'offsets not an array',
      () => build({ x: { ...ok, data_offsets: 8 } }, d8),
      /data_offsets must be \[begin, end\]/,
    ],
    [
      'three offsets',
      () => build({ x: { ...ok, data_offsets: [0, 4, 8] } }, d8),
      /data_offsets must be \[begin, end\]/,
    ],
    [
      'fractional offset',
      () => build({ x: { ...ok, data_offsets: [0, 7.5] } }, d8),
      /must be non-negative integers/,
    ],
    [
      'negative offset',
      () => build({ x: { ...ok, data_offsets: [-8, 0] } }, d8),
      /must be non-negative integers/,
    ],
    [
      'huge offset',
      () => build({ x: { ...ok, data_offsets: [0, 1e300] } }, d8),
      /must be non-negative integers/,
    ],
    [
      'begin after end',
      () => build({ x: { ...ok, data_offsets: [8, 0] } }, d8),
      /begin 8 is after end 0/,
    ],
    [
      'end beyond buffer',
      () => build({ x: { ...ok, data_offsets: [0, 8] } }, [0, 0, 0, 0]),
      /end 8 is beyond the 4-byte data buffer/,
    ],
    [
      'length mismatch',
      () => build({ x: { ...ok, shape: [3] } }, d8),
      /8 bytes at data_offsets \[0, 8\] but shape \[3\] of F32 needs 3×4 bytes/,
    ],
    [
      'overlap',
      () =>
        build(
          {
            x: ok,
            y: { ...ok, shape: [1], data_offsets: [4, 8] },
            z: { ...ok, shape: [1], data_offsets: [8, 12] },
          },
          new Array(12).fill(0),
        ),
      /overlaps tensor/,
    ],
    [
      'gap',
      () => build({ x: { ...ok, shape: [1], data_offsets: [4, 8] } }, d8),
      /gap of 4 unused bytes .* before tensor "x"/,
    ],
    [
      'trailing bytes',
      () => build({ x: { ...ok, shape: [1], data_offsets: [0, 4] } }, d8),
      /4 trailing bytes after the last tensor/,
    ],
    ['bytes but no tensors', () => build({}, d8), /8 trailing bytes/],
    [
      'metadata an array',
      () => build({ __metadata__: ['a'] }, []),
      /"__metadata__" must be an object of strings, got an array/,
    ],
    [
      'metadata a string',
      () => build({ __metadata__: 'x' }, []),
      /"__metadata__" must be an object of strings/,
    ],
    [
      'metadata value not a string',
      () => build({ __metadata__: { step: 3 } }, []),
      /"__metadata__" value for "step" must be a string, got number 3/,
    ],
  ];
  for (const [name, make, re] of cases) {
    const e = assertCheckpointError(() => readSafetensors(make(), F), F, re);
    assert.ok(e.message.startsWith(`${F}: `), `${name}: ${e.message}`);
  }
});

test('writer rejects inconsistent input with CheckpointError', () => {
  assertCheckpointError(
    () =>
      writeSafetensors(
        { x: { shape: [3], data: new Float32Array(2) } },
        { dtype: 'f32', source: 'w.st' },
      ),
    'w.st',
    /shape \[3\] \(3 elements\) but 2 values/,
  );
  assertCheckpointError(
    () =>
      writeSafetensors(
        { x: { shape: [-1], data: new Float32Array(0) } },
        { dtype: 'f32', source: 'w.st' },
      ),
    'w.st',
    /invalid shape/,
  );
  assertCheckpointError(
    () =>
      writeSafetensors(
        { __metadata__: { shape: [0], data: new Float32Array(0) } },
        { dtype: 'f32', source: 'w.st' },
      ),
    'w.st',
    /reserved/,
  );
  assertCheckpointError(
    () => writeSafetensors({}, { dtype: 'f16' as 'f32', source: 'w.st' }),
    'w.st',
    /cannot write dtype/,
  );
  assertCheckpointError(
    () =>
      writeSafetensors(
        {},
        { dtype: 'f32', metadata: { a: 1 as unknown as string }, source: 'w.st' },
      ),
    'w.st',
    /not a string/,
  );
});

test('file helpers: atomic write, read back, missing file is a CheckpointError', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'm.safetensors');
    await writeSafetensorsFile(
      path,
      { w: { shape: [2], data: new Float32Array([3, 4]) } },
      { dtype: 'bf16', metadata: { k: 'v' } },
    );
    const back = await readSafetensorsFile(path);
    assert.deepEqual([...back.tensors.w!.data], [3, 4]);
    assert.deepEqual(back.metadata, { k: 'v' });
    assert.deepEqual(await readdir(dir), ['m.safetensors']); // no temp files left
    await assertRejectsCheckpointError(
      readSafetensorsFile(join(dir, 'nope.safetensors')),
      'nope.safetensors',
      /file not found/,
    );
  });
});
