/**
 * The tokenizer: exact text round trips (with and without coordinate tokens), which numbers
 * become coordinate tokens, and that any id sequence decodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANSWER_OPEN,
  BYTE_TOKENIZER,
  COORD_BASE,
  SMALL_CONFIG,
  Tokenizer,
  USED_VOCAB,
  decode,
  encode,
  parseModelConfig,
  tokenizerOf,
} from '../../src/model/index.js';
import { mutateText } from '../fuzz.js';
import { rng } from '../helpers.js';

const coords = new Tokenizer(64);
const WORDS = ['red', 'cross', 'circles', 'circle'];
const wordsAndCoords = new Tokenizer(64, 'integers', WORDS);

test('coordinate tokens: standalone integers below the grid size, one token each', () => {
  const text = '<answer>[{"bbox_2d": [30, 18, 40, 63], "point_2d": [0, 64]}]</answer>';
  const ids = coords.encode(text);
  assert.equal(ids[0], ANSWER_OPEN);
  const coordIds = ids.filter((i) => i >= COORD_BASE && i < COORD_BASE + 64);
  assert.deepEqual(
    coordIds.map((i) => i - COORD_BASE),
    [30, 18, 40, 63, 0],
  );
  // 64 is outside the grid: its digits stay bytes
  assert.ok(ids.includes('6'.charCodeAt(0)) && ids.includes('4'.charCodeAt(0)));
  assert.equal(coords.decode(ids), text);
  // each two-digit coordinate is one token instead of two
  assert.equal(encode(text).length - ids.length, 4);
});

test('coordinate tokens: decimals, leading zeros and long numbers stay bytes', () => {
  for (const text of ['3.5', 'x1.2', '.5', '07', '00', '123', '12345', '5.', 'v2.0.1']) {
    const ids = coords.encode(text);
    assert.deepEqual(ids, encode(text), text);
  }
  assert.deepEqual(coords.encode('-5'), ['-'.charCodeAt(0), COORD_BASE + 5]);
  assert.deepEqual(coords.encode('(35,23)').length, 5);
});

test('round trip is exact for any text, with or without coordinate or word tokens, in either scope', () => {
  const positions = new Tokenizer(64, 'positions');
  const r = rng(7);
  const ri = (n: number) => Math.floor(r() * n);
  const seed =
    '<think>The red circle is at (35,23). I see 4 [1, 2] ((7)) ]3[ 9 circles across crosses; red2 Red</think><answer>[{"bbox_2d": [30, 18, 40, 28], "point_2d": [35, 23]}]</answer> 0.5 07 63 64 100';
  for (let i = 0; i < 500; i++) {
    // lone UTF-16 surrogates cannot round-trip through UTF-8 in any byte tokenizer
    const text = mutateText(seed, ri).replace(/[\ud800-\udfff]/g, '?');
    assert.equal(coords.decode(coords.encode(text)), text);
    assert.equal(positions.decode(positions.encode(text)), text);
    assert.equal(decode(encode(text)), text);
    assert.equal(wordsAndCoords.decode(wordsAndCoords.encode(text)), text);
  }
});

test('the byte tokenizer is the old one: coordinate ids decode to nothing', () => {
  assert.equal(BYTE_TOKENIZER.coordinates, 0);
  assert.equal(decode([72, COORD_BASE + 5, 105]), 'Hi');
  assert.equal(coords.decode([72, COORD_BASE + 5, 105]), 'H5i');
  // adjacent coordinate tokens are just adjacent numbers
  assert.equal(coords.decode([COORD_BASE + 1, COORD_BASE + 2]), '12');
});

test('a model config with coordinate tokens needs the vocabulary for them', () => {
  assert.equal(tokenizerOf(SMALL_CONFIG), BYTE_TOKENIZER);
  assert.throws(
    () => parseModelConfig({ ...SMALL_CONFIG, coordTokens: true }, 'm.json'),
    /m\.json: invalid model config: vocab: vocab 320 is smaller than the 328 ids/,
  );
  const ok = parseModelConfig({ ...SMALL_CONFIG, coordTokens: true, vocab: 336 }, 'm.json');
  assert.equal(tokenizerOf(ok).coordinates, 64);
  assert.equal(tokenizerOf(ok).usedVocab, USED_VOCAB + 64);
});

test('positions scope: only integers inside ( ) or [ ] become coordinate tokens', () => {
  const positions = new Tokenizer(64, 'positions');
  const text =
    '<think>I see 4 circles; A=6, B=8, about 20 px across, at (17,33).</think><answer>[{"bbox_2d": [8, 22, 26, 42], "point_2d": [17, 33]}] 4</answer>';
  const ids = positions.encode(text);
  const values = ids.filter((i) => i >= COORD_BASE).map((i) => i - COORD_BASE);
  assert.deepEqual(values, [17, 33, 8, 22, 26, 42, 17, 33]);
  assert.equal(positions.decode(ids), text);
  // outside brackets, exactly the byte tokenizer's ids
  assert.deepEqual(
    positions.encode('I see 4 circles. sum is 16'),
    encode('I see 4 circles. sum is 16'),
  );
  // a stray closing bracket does not open a scope
  assert.deepEqual(positions.encode(') 5 ] 6'), encode(') 5 ] 6'));
  // the config selects it; the integers scope is the `true` of older configs
  const cfg = parseModelConfig({ ...SMALL_CONFIG, coordTokens: 'positions', vocab: 336 }, 'm.json');
  assert.equal(tokenizerOf(cfg).scope, 'positions');
  assert.equal(tokenizerOf({ ...cfg, coordTokens: true }).scope, 'integers');
});

test('word tokens: whole listed words, one token each, ids after the coordinates', () => {
  const wordId = (w: string) => COORD_BASE + 64 + WORDS.indexOf(w);
  const text = '<think>The red circle is at (35,23); 2 circles.</think>';
  const ids = wordsAndCoords.encode(text);
  assert.deepEqual(
    ids.filter((i) => i >= COORD_BASE + 64),
    [wordId('red'), wordId('circle'), wordId('circles')],
  );
  assert.equal(wordsAndCoords.decode(ids), text);
  assert.equal(wordsAndCoords.usedVocab, USED_VOCAB + 64 + WORDS.length);
  // "red" is 3 bytes, "circle" 6, "circles" 7: 13 fewer ids, plus the two coordinates' digits
  assert.equal(coords.encode(text).length - ids.length, 13);
  // inside a longer word, next to a digit or '_', or in another case: bytes
  for (const t of ['across', 'redo', 'red2', 'x_red', 'Red', 'RED', 'circlesque'])
    assert.deepEqual(wordsAndCoords.encode(t), encode(t), t);
  // punctuation, spaces and brackets end a word
  assert.equal(wordsAndCoords.encode('(red)').length, 3);
  assert.equal(wordsAndCoords.encode('red.').length, 2);
  // words without coordinates: ids right after the special tokens
  const wordsOnly = new Tokenizer(0, 'integers', WORDS);
  assert.deepEqual(wordsOnly.encode('red 5'), [COORD_BASE, 32, 53]);
  assert.equal(wordsOnly.decode([COORD_BASE, 32, 53]), 'red 5');
});

test('word tokens: any id sequence decodes, past the word ids included', () => {
  assert.equal(wordsAndCoords.decode([COORD_BASE + 64 + 3, COORD_BASE + 64 + 4, 65]), 'circleA');
});

test('a model config with word tokens: listed in the config, checked, held by the vocabulary', () => {
  const base = { ...SMALL_CONFIG, coordTokens: true, vocab: 328 };
  assert.throws(
    () => parseModelConfig({ ...base, words: ['red', 'blue'] }, 'm.json'),
    /m\.json: invalid model config: vocab: vocab 328 is smaller than the 330 ids the tokenizer uses \(64 coordinate tokens, 2 word tokens\)/,
  );
  assert.throws(
    () => parseModelConfig({ ...base, vocab: 340, words: ['red', 'red'] }, 'm.json'),
    /words: word tokens: a word is listed twice/,
  );
  assert.throws(
    () => parseModelConfig({ ...base, vocab: 340, words: ['bbox_2d'] }, 'm.json'),
    /words: word token "bbox_2d": letters A-Z, a-z only/,
  );
  const cfg = parseModelConfig({ ...base, vocab: 340, words: ['red', 'blue'] }, 'm.json');
  assert.deepEqual(tokenizerOf(cfg).words, ['red', 'blue']);
  // configs without the field parse without it (so checkpoints written before are unchanged)
  assert.equal('words' in parseModelConfig(base, 'm.json'), false);
});

test('the word-token model config lists exactly the task suite colour and shape names', async () => {
  const { readFileSync } = await import('node:fs');
  const { COLOR_NAMES } = await import('../../src/tasks/palette.js');
  const { SHAPES } = await import('../../src/tasks/shapes.js');
  const { plural } = await import('../../src/tasks/families/common.js');
  const cfg = parseModelConfig(
    JSON.parse(readFileSync('configs/small-conv-words.json', 'utf8')),
    'configs/small-conv-words.json',
  );
  assert.deepEqual(
    [...(cfg.words ?? [])].sort(),
    [...COLOR_NAMES, ...SHAPES, ...SHAPES.map(plural)].sort(),
  );
});
