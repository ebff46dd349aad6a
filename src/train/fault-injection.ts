/**
 * Test-only fault injection for the training loop, so that the non-finite handling (skip / stop /
 * stop after `maxNonFiniteSteps`) can be exercised on a real run, in-process or through the CLI.
 *
 * `VISURF_TEST_INJECT_NAN` lists the steps whose gradients are poisoned: `3`, `2,5`, `1-10`, or a
 * mix (`1,4-6`). For such a step the optimizer's next `step()` first writes NaN into one gradient
 * value, exactly as a numerical blow-up in the backward pass would, and then runs as usual: the
 * real detection path (AdamW's non-finite gradient-norm check, `updatePolicy`'s `skipped`, the
 * trainer's streak and `onNonFinite` policy) handles it. Unset (the normal case) it does nothing.
 *
 * This is documented in docs/RELIABILITY.md; it is not a user-facing knob.
 */
import type { AdamW } from '../engine/index.js';

export const INJECT_NAN_ENV = 'VISURF_TEST_INJECT_NAN';

/** The set of steps named by a spec like `3`, `2,5`, `1-10`; throws on anything else. */
export function parseStepSpec(spec: string): Set<number> {
  const out = new Set<number>();
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`${INJECT_NAN_ENV}: "${part}" is not a step or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 1_000_000) throw new Error(`${INJECT_NAN_ENV}: bad range "${part}"`);
    for (let s = a; s <= b; s++) out.add(s);
  }
  return out;
}

/**
 * If the environment asks for it, arm a one-shot NaN in the gradients of `step`'s update: the
 * next `opt.step()` poisons a gradient, restores the original method and proceeds.
 * Returns whether a fault was armed.
 */
export function armTestFault(
  step: number,
  opt: AdamW,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const spec = env[INJECT_NAN_ENV];
  if (!spec || !parseStepSpec(spec).has(step)) return false;
  const original = opt.step;
  opt.step = function poisoned(this: AdamW, lr?: number) {
    opt.step = original; // one shot: later epochs / steps are untouched
    const p = opt.params[0];
    if (p) p.gradBuffer()[0] = Number.NaN;
    return original.call(opt, lr);
  };
  return true;
}
