/** Non-repeat reward: discourages degenerate loops of the same sentence. */
import { MAX_SENTENCES } from './limits.js';
import { clipResponse } from './parse.js';

/**
 * Split text into sentences at `.`, `!`, `?` and newlines; trimmed, empty pieces dropped.
 * Caps the count at MAX_SENTENCES so the set below stays small.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.split(/[.!?\n]/)) {
    const s = piece.trim();
    if (s.length > 0) out.push(s);
    if (out.length >= MAX_SENTENCES) break;
  }
  return out;
}

/**
 * 1 when no sentence of the response occurs twice, else 0. Tags are stripped first so
 * `<think>`/`<answer>` markup is not itself a sentence; the answer's JSON is one "sentence".
 */
export function nonRepeatReward(response: unknown): number {
  const text = clipResponse(response).replace(/<\/?(think|answer)>/g, '\n');
  const seen = new Set<string>();
  for (const s of splitSentences(text)) {
    if (seen.has(s)) return 0;
    seen.add(s);
  }
  return 1;
}
