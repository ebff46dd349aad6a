/**
 * pass@k of a model on a task: n samples per held-out input at temperature 1, c of them fully
 * correct, averaged with the unbiased estimator 1 - C(n-c, k) / C(n, k). A pass@n of 0 marks a
 * knowledge gap: RL cannot reinforce what the model never samples.
 */
import { Rng } from '../engine/index.js';
import { generate, promptTokens, tokenizerOf, type VisionLanguageModel } from '../model/index.js';
import { meanPassAtK } from '../metrics/index.js';
import { MAX_ACCURACY } from '../rewards/index.js';
import { TASKS, rewardForSample, type Sample } from '../tasks/index.js';

export interface PassAtKOptions {
  n: number;
  ks: readonly number[];
  template: string;
  noThink: boolean;
  referenceSize: number;
  maxNewTokens: number;
  seed: number;
}

/** { k: pass@k } for the samples (all of one task). */
export function passAtK(
  model: VisionLanguageModel,
  samples: readonly Sample[],
  o: PassAtKOptions,
): Record<string, number> {
  const rng = new Rng(o.seed);
  const counts: Array<{ n: number; c: number }> = [];
  const per = Math.max(1, Math.floor(64 / o.n));
  for (let i = 0; i < samples.length; i += per) {
    const chunk = samples.slice(i, i + per);
    const gen = generate(
      model,
      {
        images: model.patchify(chunk.map((s) => s.image)),
        imageOf: Int32Array.from({ length: chunk.length * o.n }, (_, j) => Math.floor(j / o.n)),
        prompts: chunk.flatMap((s) =>
          Array.from({ length: o.n }, () => promptTokens(s, o.template, model.config)),
        ),
      },
      { maxNewTokens: o.maxNewTokens, temperature: 1, rng },
    );
    chunk.forEach((s, k) => {
      const accMax = MAX_ACCURACY[TASKS[s.task].answerKind];
      let c = 0;
      for (let j = 0; j < o.n; j++) {
        const r = rewardForSample(s, tokenizerOf(model.config).decode(gen.tokens[k * o.n + j]!), {
          referenceSize: o.referenceSize,
          thinking: !o.noThink,
        });
        if (r.accuracy >= accMax - 1e-9) c++;
      }
      counts.push({ n: o.n, c });
    });
  }
  return Object.fromEntries(
    o.ks.filter((k) => k <= o.n).map((k) => [String(k), meanPassAtK(counts, k)]),
  );
}
