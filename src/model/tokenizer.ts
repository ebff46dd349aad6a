/**
 * Byte-level tokenizer: ids 0-255 are UTF-8 bytes; ids from 256 are special tokens, each a single
 * id (the reasoning and answer tags are single tokens, as in Qwen-style chat vocabularies).
 * Any string encodes (no unknown tokens) and any id sequence decodes (invalid UTF-8 becomes
 * U+FFFD), so model output can always be turned into text for the reward functions.
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

/** Ids in use; the rest of the vocabulary (up to the model's vocab size) is reserved. */
export const USED_VOCAB = SPECIAL_BASE + SPECIAL_TOKENS.length;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function specialId(token: SpecialToken): number {
  return SPECIAL_BASE + SPECIAL_TOKENS.indexOf(token);
}

/**
 * Text to ids. Special-token strings (e.g. "<think>") become their single ids; everything else
 * is UTF-8 bytes. `<pad>`, `<bos>`, `<eos>` and `<image>` in text stay plain bytes unless
 * allowControl is set, so user text cannot inject control tokens.
 */
export function encode(text: string, allowControl = false): number[] {
  const ids: number[] = [];
  let plainStart = 0;
  const flush = (end: number) => {
    if (end > plainStart) for (const b of encoder.encode(text.slice(plainStart, end))) ids.push(b);
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
 * <eos> (ends the text). Reserved ids render as nothing.
 */
export function decode(ids: ArrayLike<number>): string {
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
    const s = id - SPECIAL_BASE;
    if (s >= 0 && s < SPECIAL_TOKENS.length) out += SPECIAL_TOKENS[s];
  }
  flush();
  return out;
}

/** A short description for checkpoints (tokenizer.json). */
export function tokenizerDescription(vocab: number): Record<string, unknown> {
  return {
    type: 'byte-level',
    vocab,
    bytes: 256,
    special: Object.fromEntries(SPECIAL_TOKENS.map((t, i) => [t, SPECIAL_BASE + i])),
  };
}
