/**
 * DESIGN §1 on the real model: with one update per batch (ρ = 1), the ViSurf gradient equals the
 * RLVR-term gradient Σ_j Â_j ∇(−mean_t log π(o_j)) plus the Â_y-weighted label-NLL gradient
 * Â_y ∇(−mean_t log π(y)), each divided by G+1 — and the trainer's logged RL/SFT gradient norms
 * are exactly the norms of those two terms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, BufferArena, Rng, backward, weightedSum } from '../../src/engine/index.js';
import {
  BOS,
  TINY_CONFIG,
  VisionLanguageModel,
  buildScoringBatch,
  packResponses,
  scoreResponses,
  unpackResponses,
} from '../../src/model/index.js';
import { updatePolicy, type Member, type UpdateOptions } from '../../src/train/update.js';
import { assertClose } from '../helpers.js';

function image(seed: number) {
  const r = new Rng(seed);
  return {
    width: 16,
    height: 16,
    data: Uint8Array.from({ length: 16 * 16 * 3 }, () => r.below(256)),
  };
}

function flatGrads(model: VisionLanguageModel): Float64Array {
  const parts = [...model.params.values()].map((p) => p.grad ?? new Float32Array(p.size));
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The update's options with the paper's defaults; `o` overrides. */
function options(o: Partial<UpdateOptions>): UpdateOptions {
  return {
    loss: 'policy',
    epochs: 1,
    microBatch: 0,
    clipLow: 0.2,
    clipHigh: 0.2,
    aggregation: 'seq-mean-token-mean',
    sftAggregation: 'token-mean',
    shapingGamma: 0.1,
    normLength: 8,
    klCoef: 0,
    klKind: 'k3',
    entropyCoef: 0,
    lr: 0,
    arena: new BufferArena(),
    ...o,
  };
}

/** Flat gradient of Σ_t c_t log π(token_t) over the given members (c per packed response token). */
function linearGrad(
  model: VisionLanguageModel,
  images: ReturnType<VisionLanguageModel['patchify']>,
  members: readonly Member[],
  coefOf: (packedLogp: Float64Array) => Float64Array,
): Float64Array {
  for (const p of model.params.values()) p.grad = null;
  const batch = buildScoringBatch(
    Int32Array.from(members, (m) => m.image),
    members.map((m) => m.prompt),
    members.map((m) => m.response),
  );
  const { logp } = scoreResponses(model, images, batch);
  backward(weightedSum(logp, unpackResponses(coefOf(packResponses(logp.data, batch)), batch)));
  return flatGrads(model);
}

/** Gradient of Σ_m c_m · (−mean_t log π(response_m)) for the given members. */
function weightedNllGrad(
  model: VisionLanguageModel,
  images: ReturnType<VisionLanguageModel['patchify']>,
  members: Member[],
  coef: number[],
): Float64Array {
  const perToken = members.flatMap((m, k) => m.response.map(() => -coef[k]! / m.response.length));
  return linearGrad(model, images, members, () => Float64Array.from(perToken));
}

test('ViSurf gradient = (RLVR term + Â_y · label-NLL gradient) / (G+1), and the logged norms match', () => {
  const model = VisionLanguageModel.create(TINY_CONFIG, 31);
  const images = model.patchify([image(1), image(2)]);
  const G = 3;
  // Two groups: rollouts of different lengths, labels; advantages as ViSurf would produce.
  const prompts = [
    [BOS, 70, 71],
    [BOS, 72],
  ];
  const members: Member[] = [];
  const adv = [
    [-0.5, -0.5, -0.5, 1.5],
    [0.9, -1.1, 0.2, 0.0],
  ];
  for (let k = 0; k < 2; k++) {
    for (let j = 0; j < G; j++) {
      members.push({
        kind: 'rollout',
        image: k,
        prompt: prompts[k]!,
        response: Array.from({ length: 2 + j + k }, (_, t) => 80 + t + j),
        advantage: adv[k]![j]!,
      });
    }
    members.push({
      kind: 'label',
      image: k,
      prompt: prompts[k]!,
      response: [60, 61, 62, 63],
      advantage: adv[k]![G]!,
    });
  }
  // The trainer's update (lr = 0 keeps the weights, so the gradients can be inspected).
  const opt = new AdamW(model.parameterList(), { lr: 0 });
  const d = updatePolicy(model, opt, images, members, options({}), null);
  const full = flatGrads(model);
  // seq-mean-token-mean over the 2 groups x (G+1) members: each sequence weighs 1/(2(G+1)).
  const S = members.length;
  const rl = weightedNllGrad(
    model,
    images,
    members.filter((m) => m.kind === 'rollout'),
    members.filter((m) => m.kind === 'rollout').map((m) => m.advantage / S),
  );
  const sft = weightedNllGrad(
    model,
    images,
    members.filter((m) => m.kind === 'label'),
    members.filter((m) => m.kind === 'label').map((m) => m.advantage / S),
  );
  const sum = rl.map((v, i) => v + sft[i]!);
  assertClose(full, sum, 1e-4, 1e-7, 'ViSurf gradient vs RL term + label term');
  const norm = (g: Float64Array) => Math.sqrt(g.reduce((a, v) => a + v * v, 0));
  assert.ok(
    Math.abs(d.gradNormRl - norm(rl)) <= 1e-4 * norm(rl),
    `gradNormRl ${d.gradNormRl} vs ${norm(rl)}`,
  );
  assert.ok(
    Math.abs(d.gradNormSft - norm(sft)) <= 1e-4 * norm(sft),
    `gradNormSft ${d.gradNormSft} vs ${norm(sft)}`,
  );
  // The zero-advantage label (group 2) contributes nothing, and was not even run.
  assert.ok(norm(sft) > 0);
});

test('micro-batching changes nothing but memory', () => {
  const grads: Float64Array[] = [];
  for (const microBatch of [0, 2, 3]) {
    const model = VisionLanguageModel.create(TINY_CONFIG, 32);
    const images = model.patchify([image(3)]);
    const members: Member[] = [0, 1, 2, 3, 4].map((j) => ({
      kind: j === 4 ? 'label' : 'rollout',
      image: 0,
      prompt: [BOS, 65],
      response: Array.from({ length: 1 + j }, (_, t) => 90 + t),
      advantage: [1, -1, 0.5, -0.5, 2][j]!,
    }));
    const opt = new AdamW(model.parameterList(), { lr: 0 });
    updatePolicy(
      model,
      opt,
      images,
      members,
      options({ microBatch, aggregation: 'token-mean' }),
      null,
    );
    grads.push(flatGrads(model));
  }
  assertClose(grads[1]!, grads[0]!, 1e-4, 1e-7, 'microBatch 2 vs all');
  assertClose(grads[2]!, grads[0]!, 1e-4, 1e-7, 'microBatch 3 vs all');
});

test('SFT aggregation: token-mean weighs label tokens alike, seq-mean-token-mean weighs samples alike', () => {
  const model = VisionLanguageModel.create(TINY_CONFIG, 33);
  const images = model.patchify([image(4), image(5)]);
  const members: Member[] = [1, 4].map((len, k) => ({
    kind: 'label',
    image: k,
    prompt: [BOS, 66],
    response: Array.from({ length: len }, (_, t) => 70 + t),
    advantage: 1,
  }));
  // Each label's summed NLL, measured directly.
  const nll = members.map((m) => {
    const { logp } = scoreResponses(
      model,
      model.patchify([image(4 + m.image)]),
      buildScoringBatch(Int32Array.from([0]), [m.prompt], [m.response]),
    );
    return -Array.from(logp.data).reduce((a, b) => a + b, 0);
  });
  const lossWith = (sftAggregation: 'token-mean' | 'seq-mean-token-mean') =>
    updatePolicy(
      model,
      new AdamW(model.parameterList(), { lr: 0 }),
      images,
      members,
      options({ loss: 'nll', sftAggregation }),
      null,
    ).loss;
  assertClose([lossWith('token-mean')], [(nll[0]! + nll[1]!) / 5], 1e-5, 1e-6, 'token-mean');
  assertClose(
    [lossWith('seq-mean-token-mean')],
    [(nll[0]! / 1 + nll[1]! / 4) / 2],
    1e-5,
    1e-6,
    'seq-mean-token-mean',
  );
});

test('CHORD update: (1 − μ) × the GRPO gradient of the rollouts + μ × the label NLL gradient, normalised apart', () => {
  const model = VisionLanguageModel.create(TINY_CONFIG, 34);
  const images = model.patchify([image(6)]);
  const mu = 0.3;
  const rollouts: Member[] = [
    { kind: 'rollout', image: 0, prompt: [BOS, 67], response: [80, 81], advantage: 1.2 },
    { kind: 'rollout', image: 0, prompt: [BOS, 67], response: [82, 83, 84], advantage: -0.7 },
  ];
  const label: Member = {
    kind: 'label',
    image: 0,
    prompt: [BOS, 67],
    response: [85, 86, 87, 88],
    advantage: 1,
  };
  const opt = () => new AdamW(model.parameterList(), { lr: 0 });
  updatePolicy(
    model,
    opt(),
    images,
    [
      ...rollouts.map((m) => ({ ...m, objective: 'clipped' as const, coef: 1 - mu })),
      { ...label, objective: 'nll', coef: mu },
    ],
    options({}),
    null,
  );
  const combined = flatGrads(model);
  // GRPO term alone (seq-mean-token-mean over the two rollouts; ρ = 1 on the first epoch):
  // d/dθ Σ_j (1/2)(1/|o_j|) Σ_t −A_j log π — and the label's token-mean NLL, −(1/4) Σ_t log π.
  const rl = weightedNllGrad(model, images, rollouts, [1.2 / 2, -0.7 / 2]);
  const sft = weightedNllGrad(model, images, [label], [1]);
  const expected = rl.map((g, i) => (1 - mu) * g + mu * sft[i]!);
  assertClose(combined, expected, 1e-4, 1e-7, 'CHORD gradient');
});

/**
 * The update's gradient for one label member against Σ_t c_t ∇log π(t), c from its packed
 * log-probs (the rule under test, worked by hand).
 */
function assertMemberGradient(
  seed: number,
  fields: Partial<Member> & Pick<Member, 'response' | 'advantage'>,
  coefOf: (packedLogp: Float64Array) => Float64Array,
  what: string,
) {
  const model = VisionLanguageModel.create(TINY_CONFIG, seed);
  const images = model.patchify([image(seed)]);
  const label: Member = { kind: 'label', image: 0, prompt: [BOS, 68], ...fields };
  updatePolicy(
    model,
    new AdamW(model.parameterList(), { lr: 0 }),
    images,
    [label],
    options({}),
    null,
  );
  const got = flatGrads(model);
  assertClose(got, linearGrad(model, images, [label], coefOf), 1e-4, 1e-7, what);
  assert.ok(
    got.some((g) => g !== 0),
    `${what}: some gradient`,
  );
}

test('LUFFY update: the shaped label member gets −A·γp/(p+γ)² per token, unclipped', () => {
  // seq-mean-token-mean over one sequence of 3 tokens: w_t = 1/3
  assertMemberGradient(
    35,
    { response: [90, 91, 92], advantage: 1.5, objective: 'shaped' },
    (lp) =>
      lp.map((l) => {
        const p = Math.exp(l);
        return (-1.5 * 0.1 * p) / (p + 0.1) ** 2 / 3;
      }),
    'LUFFY gradient',
  );
});

test('a borrowed label: only its answer tokens carry loss and count in the normalisation', () => {
  // 5 response tokens: 3 of borrowed reasoning (context), then a 2-token answer; ρ = 1, so the
  // gradient is that of −A · (1/2) Σ_{t ≥ 3} log π(t): the reasoning tokens contribute 0
  assertMemberGradient(
    36,
    { response: [100, 101, 102, 103, 104], advantage: 0.8, lossFrom: 3 },
    () => Float64Array.from([0, 0, 0, -0.8 / 2, -0.8 / 2]),
    'borrowed label gradient',
  );
});
