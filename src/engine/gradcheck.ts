/**
 * Finite-difference gradient checking: compares autograd gradients of a scalar function with
 * central differences (f(x+h) - f(x-h)) / 2h, evaluated in f32 like the engine itself.
 */
import { backward } from './autograd.js';
import { noGrad, type Tensor } from './tensor.js';

export interface GradcheckResult {
  /** largest |analytic - numeric| / max(atol, rtol·|numeric|) over checked entries (<= 1 passes) */
  worst: number;
  /** description of the worst entry */
  where: string;
}

/**
 * f builds a scalar from the inputs (called many times). Checks up to maxPerInput entries of
 * each input's gradient (chosen evenly spread), returning the worst relative violation.
 */
export function gradcheck(
  f: () => Tensor,
  inputs: readonly Tensor[],
  opts: { h?: number; rtol?: number; atol?: number; maxPerInput?: number } = {},
): GradcheckResult {
  const h = opts.h ?? 1e-2;
  const rtol = opts.rtol ?? 2e-2;
  const atol = opts.atol ?? 2e-3;
  const maxPer = opts.maxPerInput ?? 24;
  for (const x of inputs) x.grad = null;
  const out = f();
  backward(out);
  const analytic = inputs.map((x) => (x.grad ? x.grad.slice() : new Float32Array(x.size)));
  let worst = 0;
  let where = '';
  inputs.forEach((x, xi) => {
    const stride = Math.max(1, Math.floor(x.size / maxPer));
    for (let i = 0; i < x.size; i += stride) {
      const orig = x.data[i]!;
      x.data[i] = orig + h;
      x.markModified();
      const fp = noGrad(() => f().item());
      x.data[i] = orig - h;
      x.markModified();
      const fm = noGrad(() => f().item());
      x.data[i] = orig;
      x.markModified();
      const numeric = (fp - fm) / (2 * h);
      const a = analytic[xi]![i]!;
      const v = Math.abs(a - numeric) / Math.max(atol, rtol * Math.abs(numeric));
      if (v > worst || Number.isNaN(v)) {
        worst = Number.isNaN(v) ? Infinity : v;
        where = `input ${xi}${x.name ? ` (${x.name})` : ''} [${i}]: analytic ${a}, numeric ${numeric}`;
      }
    }
  });
  return { worst, where };
}
