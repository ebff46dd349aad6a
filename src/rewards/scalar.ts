/** Answer parsing and scoring for the non-object answer kinds: counts, numbers, clicks and short text. */
import { MAX_ANSWER_CHARS } from './limits.js';
import { parseAnswerObjects, type Box, type Point } from './parse.js';
import { pointInBox } from './geometry.js';

const INTEGER = /^[+]?\d{1,9}$/;
const NUMBER = /^[+-]?(\d{1,15}(\.\d{0,15})?|\.\d{1,15})([eE][+-]?\d{1,3})?$/;

/**
 * A count: a non-negative integer written plainly (`3`, `+3`), or — as VisionReasoner counts on
 * CountBench — a JSON list of objects, counted by its length. Anything else: null.
 */
export function parseCount(answer: string | null): number | null {
  if (answer === null) return null;
  const s = answer.trim();
  if (s.startsWith('[')) {
    const parsed = parseAnswerObjects(s);
    return parsed.ok ? parsed.objects.length : null;
  }
  if (s.length > 32) return null;
  return INTEGER.test(s) ? Number(s) : null;
}

/** A finite decimal number (`12`, `-0.5`, `1e3`), else null. */
export function parseNumber(answer: string | null): number | null {
  if (answer === null || answer.length > 64) return null;
  const s = answer.trim();
  if (!NUMBER.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** True when two numbers agree to a relative tolerance of 1e-6 (absolute near zero). */
export function numbersAgree(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * The click point of an answer: the `point_2d` of the first listed object
 * (`[{"point_2d": [x, y]}]`), or null.
 */
export function parseClick(answer: string | null): Point | null {
  if (answer === null) return null;
  const parsed = parseAnswerObjects(answer);
  if (!parsed.ok || parsed.objects.length === 0) return null;
  return parsed.objects[0]!.point;
}

/** 1 when the click lands inside the target box (edges included), else 0. */
export function clickHit(point: Point | null, target: Box | null): number {
  return point && target && pointInBox(point, target) ? 1 : 0;
}

/** Lowercase, trim, collapse internal whitespace and drop a trailing full stop. */
export function normalizeText(s: string): string {
  return s.slice(0, MAX_ANSWER_CHARS).trim().toLowerCase().replace(/\s+/g, ' ').replace(/\.$/, '');
}

/** Word-level F1 between a prediction and a reference (bag of words), 0..1. */
export function wordF1(pred: string, ref: string): number {
  const p = normalizeText(pred)
    .split(/[\s,]+/)
    .filter(Boolean);
  const r = normalizeText(ref)
    .split(/[\s,]+/)
    .filter(Boolean);
  if (p.length === 0 && r.length === 0) return 1;
  if (p.length === 0 || r.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const w of r) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      common++;
      counts.set(w, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / r.length;
  return (2 * precision * recall) / (precision + recall);
}
