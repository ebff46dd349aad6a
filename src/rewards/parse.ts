/**
 * Splitting a response into its `<think>` and `<answer>` parts and parsing the answer's JSON
 * into objects — shared by every reward and by the trainer. Nothing here throws.
 */
import { MAX_ANSWER_CHARS, MAX_JSON_DEPTH, MAX_RESPONSE_CHARS } from './limits.js';

/** Inclusive integer-pixel box `[x1, y1, x2, y2]`. */
export type Box = [number, number, number, number];
/** Pixel point `[x, y]`. */
export type Point = [number, number];

/** One object of a VisionReasoner answer; a field is null when absent or malformed. */
export interface AnswerObject {
  bbox: Box | null;
  point: Point | null;
}

export interface SplitResponse {
  /** Text inside the first `<think>…</think>`, or null when there is none. */
  think: string | null;
  /** Text inside the first `<answer>…</answer>` (after the think block), or null when there is none. */
  answer: string | null;
}

/** Clip a response to the bound every reward works within. */
export function clipResponse(response: unknown): string {
  if (typeof response !== 'string') return '';
  return response.length > MAX_RESPONSE_CHARS ? response.slice(0, MAX_RESPONSE_CHARS) : response;
}

/**
 * Split a response into think text and answer text. Uses indexOf rather than a backtracking
 * regex so the cost is linear in the (clipped) length.
 */
export function splitResponse(response: unknown): SplitResponse {
  const text = clipResponse(response);
  let think: string | null = null;
  let searchFrom = 0;
  const t0 = text.indexOf('<think>');
  if (t0 >= 0) {
    const t1 = text.indexOf('</think>', t0 + 7);
    if (t1 >= 0) {
      think = text.slice(t0 + 7, t1);
      searchFrom = t1 + 8;
    }
  }
  let answer: string | null = null;
  const a0 = text.indexOf('<answer>', searchFrom);
  if (a0 >= 0) {
    const a1 = text.indexOf('</answer>', a0 + 8);
    if (a1 >= 0) answer = text.slice(a0 + 8, a1);
  }
  return { think, answer };
}

/**
 * Maximum bracket nesting of a JSON-ish text, counted outside string literals. Stops counting
 * once `limit` is exceeded, so the scan is linear and allocation-free.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

export type SafeJson = { ok: true; value: unknown } | { ok: false; error: string };

/** JSON.parse behind length and depth limits; never throws. */
export function safeJsonParse(
  text: unknown,
  maxChars = MAX_ANSWER_CHARS,
  maxDepth = MAX_JSON_DEPTH,
): SafeJson {
  if (typeof text !== 'string') return { ok: false, error: 'not a string' };
  if (text.length > maxChars) return { ok: false, error: `longer than ${maxChars} chars` };
  if (jsonDepth(text, maxDepth) > maxDepth)
    return { ok: false, error: `nested deeper than ${maxDepth}` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : 'parse error' };
  }
}

/** A number that is finite (rejects NaN, ±Infinity from e.g. `1e309`, and non-numbers). */
function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** `[x1, y1, x2, y2]` of four finite numbers, else null. */
export function asBox(v: unknown): Box | null {
  if (!Array.isArray(v) || v.length !== 4 || !v.every(finite)) return null;
  return [v[0], v[1], v[2], v[3]];
}

/** `[x, y]` of two finite numbers, else null. */
export function asPoint(v: unknown): Point | null {
  if (!Array.isArray(v) || v.length !== 2 || !v.every(finite)) return null;
  return [v[0], v[1]];
}

export type ParsedAnswer = { ok: true; objects: AnswerObject[] } | { ok: false; error: string };

/**
 * Parse a VisionReasoner answer body (a JSON list of `{bbox_2d, point_2d}`) into objects.
 * A non-object entry becomes `{bbox: null, point: null}` so it still counts as a prediction.
 * Returns ok:false when the text is not a JSON list.
 */
export function parseAnswerObjects(answer: unknown): ParsedAnswer {
  const parsed = safeJsonParse(typeof answer === 'string' ? answer.trim() : answer);
  if (!parsed.ok) return parsed;
  if (!Array.isArray(parsed.value)) return { ok: false, error: 'answer is not a JSON list' };
  const objects = parsed.value.map((item): AnswerObject => {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return { bbox: null, point: null };
    const rec = item as Record<string, unknown>;
    return { bbox: asBox(rec['bbox_2d']), point: asPoint(rec['point_2d']) };
  });
  return { ok: true, objects };
}

/** Parse the objects of a whole response (its `<answer>` block). */
export function parseResponseObjects(response: unknown): ParsedAnswer {
  const { answer } = splitResponse(response);
  if (answer === null) return { ok: false, error: 'no <answer> block' };
  return parseAnswerObjects(answer);
}

/** Render objects in the policy's own answer style: `[{"bbox_2d": [1, 2, 3, 4], "point_2d": [2, 3]}]`. */
export function formatAnswerObjects(objects: readonly AnswerObject[]): string {
  const parts = objects.map((o) => {
    const fields: string[] = [];
    if (o.bbox) fields.push(`"bbox_2d": [${o.bbox.join(', ')}]`);
    if (o.point) fields.push(`"point_2d": [${o.point.join(', ')}]`);
    return `{${fields.join(', ')}}`;
  });
  return `[${parts.join(', ')}]`;
}

/** Wrap think and answer text into a full response; `think === null` gives the no-thinking form. */
export function formatResponse(think: string | null, answer: string): string {
  return think === null
    ? `<answer>${answer}</answer>`
    : `<think>${think}</think><answer>${answer}</answer>`;
}

/**
 * The answer text in visurf's canonical style — the style of generated samples' labels: a
 * VisionReasoner list re-rendered by formatAnswerObjects (fixed key order, spacing, number
 * format); any other answer trimmed; unparseable text returned trimmed. (Reward control 1
 * re-renders a label in the style the *rollouts* prefer instead: algorithms/label-alignment.ts.)
 */
export function canonicalAnswer(answer: string): string {
  const text = answer.trim();
  if (!text.startsWith('[')) return text;
  const parsed = parseAnswerObjects(text);
  return parsed.ok ? formatAnswerObjects(parsed.objects) : text;
}
