/**
 * Hard bounds that keep every reward function's time and memory finite on any input.
 * A response longer than these limits is truncated (or judged malformed) rather than parsed in full.
 */

/** Longest response text (UTF-16 code units) a reward function looks at; the rest is ignored. */
export const MAX_RESPONSE_CHARS = 65_536;
/** Longest `<answer>` body handed to JSON.parse; longer answers count as malformed. */
export const MAX_ANSWER_CHARS = 16_384;
/** Deepest bracket nesting accepted before JSON.parse; deeper answers count as malformed. */
export const MAX_JSON_DEPTH = 16;
/**
 * Most predicted objects entered into the Hungarian matching (O(n^3)); extra predictions still
 * count in the max(#pred, #true) denominator, so spamming objects is penalised, not ignored.
 */
export const MAX_MATCHED_OBJECTS = 100;
