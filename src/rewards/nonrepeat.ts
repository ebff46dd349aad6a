/**
 * Non-repeat reward: discourages degenerate loops of the same sentence, exactly as the authors'
 * reference (VisionReasoner's `non_repeat_reward`) computes it: the whole response, tags
 * included, is split on `.` only; each piece is stripped and empty pieces dropped; every piece
 * seen before counts a repeat, and the reward is 0 once two repeats are counted, else 1.
 * (The only bound: the response is clipped to MAX_RESPONSE_CHARS first, like every reward.)
 */
import { clipResponse } from './parse.js';

/** The reference's sentences: split on `.`, stripped, empty pieces dropped. */
export function splitSentences(text: string): string[] {
  return text
    .split('.')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Repeats at which the reward drops to 0 (the reference's `repeats >= 2`). */
export const REPEATS_ALLOWED = 1;

export function nonRepeatReward(response: unknown): number {
  const seen = new Set<string>();
  let repeats = 0;
  for (const s of splitSentences(clipResponse(response))) {
    if (seen.has(s)) repeats++;
    if (repeats > REPEATS_ALLOWED) return 0;
    seen.add(s);
  }
  return 1;
}
