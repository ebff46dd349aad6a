/**
 * Byte-level tokenizer: ids 0-255 are UTF-8 bytes; ids from 256 are special tokens, each a single
 * id (the reasoning and answer tags are single tokens, as in Qwen-style chat vocabularies).
 * Any string encodes (no unknown tokens) and any id sequence decodes (invalid UTF-8 becomes
 * U+FFFD), so model output can always be turned into text for the reward functions.
 *
 * Optionally (a model config's `coordTokens`), integers 0..N-1 written as plain decimal numbers
 * get one token each, ids COORD_BASE + value (N = the model's image size: one token per pixel
 * position of its input grid, as Pix2Seq and Kosmos-2 spend tokens on locations). Text is
 * unchanged: a coordinate token decodes to its digits, so decode(encode(t)) === t and the
 * rewards, parsers and reference reward never see a difference. In the `positions` scope only
 * integers inside ( ) or [ ] become coordinate tokens ("(35,23)", "[30, 18, 40, 28]"), so a
 * count or a chart value ("I see 4 circles", "A=6") keeps its byte digits.
 *
 * Optionally (a model config's `words`), a listed word written as a whole word gets one token,
 * ids after the coordinates (as a BPE vocabulary gives "yellow" or "diamond" one token): the
 * language model then reads a colour or a shape name from one embedding instead of composing
 * it from bytes. Whole word: no letter, digit or '_' on either side, so "cross" inside "across"
 * or "red2" stays bytes; only the exact spelling matches ("Red" stays bytes). Decoding renders
 * the word, so the round trip stays exact.
 */

export const SPECIAL_TOKENS = [
  '<pad>',
  '<bos>',
  '<eos>',
  '<image>',
  '<think>',
  '</think>',
  '<answer>',
  '</answer>',
] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

const SPECIAL_BASE = 256;
export const PAD = SPECIAL_BASE + 0;
export const BOS = SPECIAL_BASE + 1;
export const EOS = SPECIAL_BASE + 2;
export const IMAGE = SPECIAL_BASE + 3;
export const THINK_OPEN = SPECIAL_BASE + 4;
export const THINK_CLOSE = SPECIAL_BASE + 5;
export const ANSWER_OPEN = SPECIAL_BASE + 6;
export const ANSWER_CLOSE = SPECIAL_BASE + 7;

/** Ids in use by every tokenizer; the rest of the vocabulary is coordinates or reserved. */
export const USED_VOCAB = SPECIAL_BASE + SPECIAL_TOKENS.length;
/** First coordinate token id (value 0). */
export const COORD_BASE = USED_VOCAB;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function specialId(token: SpecialToken): number {
  return SPECIAL_BASE + SPECIAL_TOKENS.indexOf(token);
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** Characters that make a letter run part of a longer word ("red2", "x_red"). */
const WORD_JOINER = /[0-9A-Za-z_]/;
/** Characters that make a digit run part of a word or a decimal ("bbox_2d", "x1", "3.5"). */
const WORDLIKE = /[0-9A-Za-z_.]/;

/** Which integers become coordinate tokens: every standalone one, or those inside ( ) / [ ]. */
export type CoordScope = 'integers' | 'positions';

/** Bracket depth before each character of `text`: ( and [ open, ) and ] close (never below 0). */
function bracketDepths(text: string): Int32Array {
  const depth = new Int32Array(text.length);
  let d = 0;
  for (let i = 0; i < text.length; i++) {
    depth[i] = d;
    const c = text[i];
    if (c === '(' || c === '[') d++;
    else if ((c === ')' || c === ']') && d > 0) d--;
  }
  return depth;
}

/** What a tokenizer turns into single tokens besides bytes (see Tokenizer). */
interface Vocabulary {
  coords: number;
  scope: CoordScope;
  /** word → id */
  words: ReadonlyMap<string, number>;
}

/**
 * Plain text (no special tokens) to ids: UTF-8 bytes, except that a standalone decimal integer
 * below `coords` (inside brackets, in the `positions` scope) becomes its coordinate token and a
 * listed whole word its word token. Standalone integer: no letter, digit, '_' or '.' on either
 * side (so "bbox_2d", "x1" and "3.5" stay bytes) and no leading zero (so "07" stays bytes and
 * decodes back as it was).
 */
function pushPlain(text: string, v: Vocabulary, ids: number[]): void {
  const { coords, scope, words } = v;
  if (coords === 0 && words.size === 0) {
    for (const b of encoder.encode(text)) ids.push(b);
    return;
  }
  const depth = coords > 0 && scope === 'positions' ? bracketDepths(text) : null;
  let i = 0;
  let start = 0;
  const flushBytes = (end: number) => {
    if (end > start) for (const b of encoder.encode(text.slice(start, end))) ids.push(b);
  };
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const digit = coords > 0 && isDigit(c);
    const letter = words.size > 0 && isLetter(c);
    if (!digit && !letter) {
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && (digit ? isDigit : isLetter)(text.charCodeAt(j))) j++;
    const before = i > 0 ? text[i - 1]! : '';
    const after = j < text.length ? text[j]! : '';
    let id = -1;
    if (letter) {
      const w = words.get(text.slice(i, j));
      if (w !== undefined && !WORD_JOINER.test(before) && !WORD_JOINER.test(after)) id = w;
    } else {
      const value = Number(text.slice(i, j));
      const leadingZero = j - i > 1 && text[i] === '0';
      const inScope = depth === null || depth[i]! > 0;
      if (
        inScope &&
        !WORDLIKE.test(before) &&
        !WORDLIKE.test(after) &&
        !leadingZero &&
        value < coords
      )
        id = COORD_BASE + value;
    }
    if (id >= 0) {
      flushBytes(i);
      ids.push(id);
      start = j;
    }
    i = j;
  }
  flushBytes(text.length);
}

/**
 * Text to ids. Special-token strings (e.g. "<think>") become their single ids; everything else
 * is UTF-8 bytes. `<pad>`, `<bos>`, `<eos>` and `<image>` in text stay plain bytes unless
 * allowControl is set, so user text cannot inject control tokens.
 */
function encodeWith(text: string, allowControl: boolean, v: Vocabulary): number[] {
  const ids: number[] = [];
  let plainStart = 0;
  const flush = (end: number) => {
    if (end > plainStart) pushPlain(text.slice(plainStart, end), v, ids);
  };
  for (let i = text.indexOf('<'); i !== -1 && i < text.length; i = text.indexOf('<', i + 1)) {
    for (let s = 0; s < SPECIAL_TOKENS.length; s++) {
      const tok = SPECIAL_TOKENS[s]!;
      if (!allowControl && s < 4) continue;
      if (text.startsWith(tok, i)) {
        flush(i);
        ids.push(SPECIAL_BASE + s);
        plainStart = i + tok.length;
        i = plainStart - 1;
        break;
      }
    }
  }
  flush(text.length);
  return ids;
}

/**
 * Ids to text. Special tokens render as their strings except <pad> and <bos> (dropped) and
 * <eos> (ends the text). Coordinate tokens render as their digits, word tokens as their words;
 * reserved ids as nothing.
 */
function decodeWith(ids: ArrayLike<number>, coords: number, words: readonly string[]): string {
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) out += decoder.decode(Uint8Array.from(bytes));
    bytes = [];
  };
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= 0 && id < SPECIAL_BASE) {
      bytes.push(id);
      continue;
    }
    flush();
    if (id === EOS) break;
    if (id === PAD || id === BOS) continue;
    if (id >= COORD_BASE && id < COORD_BASE + coords) {
      out += String(id - COORD_BASE);
      continue;
    }
    const w = id - COORD_BASE - coords;
    if (w >= 0 && w < words.length) {
      out += words[w];
      continue;
    }
    const s = id - SPECIAL_BASE;
    if (s >= 0 && s < SPECIAL_TOKENS.length) out += SPECIAL_TOKENS[s];
  }
  flush();
  return out;
}

/**
 * A model's tokenizer: the byte-level one, plus `coordinates` coordinate tokens (0 = none) and
 * one token per listed word, ids COORD_BASE + coordinates + index. Every model config names its
 * own (see tokenizerOf in ./config.ts).
 */
export class Tokenizer {
  private readonly vocabulary: Vocabulary;
  constructor(
    readonly coordinates: number,
    readonly scope: CoordScope = 'integers',
    readonly words: readonly string[] = [],
  ) {
    for (const w of words)
      if (!/^[A-Za-z]+$/.test(w))
        throw new Error(`word token ${JSON.stringify(w)}: letters A-Z, a-z only`);
    if (new Set(words).size !== words.length)
      throw new Error('word tokens: a word is listed twice');
    const base = COORD_BASE + coordinates;
    this.vocabulary = {
      coords: coordinates,
      scope,
      words: new Map(words.map((w, i) => [w, base + i])),
    };
  }
  /** Special-token strings become their ids; `<pad>` `<bos>` `<eos>` `<image>` only with allowControl. */
  encode(text: string, allowControl = false): number[] {
    return encodeWith(text, allowControl, this.vocabulary);
  }
  decode(ids: ArrayLike<number>): string {
    return decodeWith(ids, this.coordinates, this.words);
  }
  /** Ids this tokenizer can produce (the model's vocab must be at least this). */
  get usedVocab(): number {
    return COORD_BASE + this.coordinates + this.words.length;
  }
}

/** The plain byte-level tokenizer (no coordinate tokens), every model's before they existed. */
export const BYTE_TOKENIZER = new Tokenizer(0);

/** Text to ids with the byte-level tokenizer (see Tokenizer.encode). */
export function encode(text: string, allowControl = false): number[] {
  return BYTE_TOKENIZER.encode(text, allowControl);
}

/** Ids to text with the byte-level tokenizer: coordinate ids render as nothing. */
export function decode(ids: ArrayLike<number>): string {
  return BYTE_TOKENIZER.decode(ids);
}

/** A short description for checkpoints (tokenizer.json). */
export function tokenizerDescription(vocab: number, tokenizer: Tokenizer): Record<string, unknown> {
  const { coordinates, scope, words } = tokenizer;
  return {
    type: 'byte-level',
    vocab,
    bytes: 256,
    special: Object.fromEntries(SPECIAL_TOKENS.map((t, i) => [t, SPECIAL_BASE + i])),
    // only written when present, so checkpoints without coordinate tokens are unchanged
    ...(coordinates > 0
      ? {
          coordinates: {
            first: COORD_BASE,
            count: coordinates,
            // written only when not the first scope, so those checkpoints are unchanged too
            ...(scope === 'positions' ? { scope } : {}),
          },
        }
      : {}),
    // likewise only when present
    ...(words.length > 0 ? { words: { first: COORD_BASE + coordinates, list: words } } : {}),
  };
}
