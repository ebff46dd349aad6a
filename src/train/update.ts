/**
 * One optimizer update over a batch of training sequences ("members"): rollouts with their
 * advantages, and (SFT, ViSurf) the labels. The pure loss functions in ../algorithms compute
 * dLoss/dlogp per token; this module turns log-probs into those inputs and pushes the gradients
 * back through the model.
 *
 * Rollouts and labels are forwarded in separate micro-batches, so the gradient of the RL term
 * and of the label (SFT) term can be measured separately at almost no cost: the norm after the
 * rollout passes, and the norm of what the label passes added.
 */
import {
  type AdamW,
  type BufferArena,
  add,
  backward,
  kernels,
  noGrad,
  weightedSum,
  withArena,
} from '../engine/index.js';
import {
  aggregationWeights,
  klLoss,
  klPenalty,
  policyLoss,
  sftLoss,
  shapedPolicyLoss,
  type LossAggregation,
} from '../algorithms/index.js';
import {
  buildScoringBatch,
  selectImages,
  packResponses,
  scoreResponses,
  unpackResponses,
  type ImageBatch,
  type VisionLanguageModel,
} from '../model/index.js';

export interface Member {
  kind: 'rollout' | 'label';
  /** image of this sequence within the step's ImageBatch */
  image: number;
  prompt: readonly number[];
  response: readonly number[];
  /** per-sequence advantage (policy loss) — ignored by the NLL loss */
  advantage: number;
  /**
   * The member's loss; by default the update's (`policy` → `clipped`, `nll` → `nll`):
   * - `clipped`: PPO/GRPO clipped surrogate on its advantage;
   * - `shaped`: an off-policy member's surrogate −A·f(π), f(p) = p/(p+γ), unclipped (LUFFY);
   * - `nll`: the label's negative log-likelihood (CHORD's SFT term).
   * `clipped` and `shaped` members are normalised together (`aggregation`), `nll` members
   * apart (`sftAggregation`).
   */
  objective?: MemberObjective;
  /** multiplies the member's token weights (CHORD's 1 − μ and μ); default 1 */
  coef?: number;
  /**
   * Response tokens before this index carry no loss and do not count in the normalisation (a
   * `borrowed` label: the rollout's reasoning it borrows is context, only its answer is
   * supervised); default 0.
   */
  lossFrom?: number;
}

export type MemberObjective = 'clipped' | 'shaped' | 'nll';

export interface UpdateOptions {
  /** 'policy': clipped surrogate with advantages; 'nll': token-mean NLL (SFT) */
  loss: 'policy' | 'nll';
  epochs: number;
  microBatch: number;
  clipLow: number;
  clipHigh: number;
  /** token weighting of the policy loss, and of the NLL ('nll') */
  aggregation: LossAggregation;
  sftAggregation: LossAggregation;
  /** γ of the `shaped` objective's f(p) = p/(p+γ) */
  shapingGamma: number;
  /** max response length, the normaliser of seq-mean-token-sum-norm */
  normLength: number;
  klCoef: number;
  klKind: 'k1' | 'k3';
  entropyCoef: number;
  lr: number;
  arena: BufferArena;
}

export interface UpdateDiagnostics {
  loss: number;
  clipFraction: number;
  approxKl: number;
  /** mean token entropy of the rollouts (NaN when none were scored) */
  entropy: number;
  /** mean KL to the reference, per token (0 when off) */
  kl: number;
  /** mean NLL per label token (NaN when the batch has no label) */
  labelNll: number;
  gradNorm: number;
  gradNormRl: number;
  gradNormSft: number;
  clipScale: number;
  skipped: boolean;
  /** tokens (image + text) run forward / backward */
  forwardTokens: number;
  backwardTokens: number;
}

/** Σ_tokens layout helpers. */
function seqLengths(members: readonly Member[]): number[] {
  return members.map((m) => m.response.length);
}

/**
 * Split into micro-batches of `size` (0 = one batch). With `lengthOf`, items are grouped by
 * length first, so each micro-batch is padded only to its own longest sequence (the loss is
 * normalised over the whole batch, so grouping changes only the order of a float sum).
 */
function chunk<T>(xs: readonly T[], size: number, lengthOf?: (x: T) => number): T[][] {
  if (size <= 0 || size >= xs.length) return xs.length ? [xs.slice()] : [];
  const sorted = lengthOf ? [...xs].sort((a, b) => lengthOf(a) - lengthOf(b)) : xs;
  const out: T[][] = [];
  for (let i = 0; i < sorted.length; i += size) out.push(sorted.slice(i, i + size));
  return out;
}

/** Text tokens of a member's scoring sequence (what its micro-batch is padded to). */
function memberLength(m: Member): number {
  return m.prompt.length + m.response.length;
}

/** The scoring batch of a micro-batch, with only the images it shows. */
function microBatchInputs(images: ImageBatch, mb: readonly Member[]) {
  const sel = selectImages(
    images,
    mb.map((m) => m.image),
  );
  const batch = buildScoringBatch(
    sel.imageOf,
    mb.map((m) => m.prompt),
    mb.map((m) => m.response),
  );
  return { images: sel.images, batch };
}

function gradNormOf(model: VisionLanguageModel): number {
  const K = kernels();
  let ss = 0;
  for (const p of model.params.values()) if (p.grad) ss += K.sumSquares(p.grad, p.grad.length);
  return Math.sqrt(ss);
}

function snapshotGrads(model: VisionLanguageModel): Float32Array[] {
  return [...model.params.values()].map((p) =>
    p.grad ? p.grad.slice() : new Float32Array(p.size),
  );
}

function normOfDifference(model: VisionLanguageModel, before: Float32Array[]): number {
  let ss = 0;
  [...model.params.values()].forEach((p, i) => {
    const g = p.grad;
    const b = before[i]!;
    if (!g) return;
    for (let j = 0; j < g.length; j++) {
      const d = g[j]! - b[j]!;
      ss += d * d;
    }
  });
  return Math.sqrt(ss);
}

/** Log-probs of members' responses under a model without gradients, packed per member order. */
export function scoreMembers(
  model: VisionLanguageModel,
  images: ImageBatch,
  members: readonly Member[],
  microBatch: number,
  arena: BufferArena,
): Float64Array[] {
  const out: Float64Array[] = [];
  for (const mb of chunk(members, microBatch)) {
    withArena(arena, () =>
      noGrad(() => {
        const { images: imgs, batch } = microBatchInputs(images, mb);
        const { logp } = scoreResponses(model, imgs, batch);
        const packed = packResponses(logp.data, batch);
        let o = 0;
        for (const m of mb) {
          out.push(packed.slice(o, o + m.response.length));
          o += m.response.length;
        }
      }),
    );
  }
  return out;
}

/**
 * Accumulate gradients of the loss over members (rollouts first, then labels), step the
 * optimizer once per epoch. The loss is normalised over the whole batch (all members), so
 * micro-batching changes nothing but memory.
 */
export function updatePolicy(
  model: VisionLanguageModel,
  opt: AdamW,
  images: ImageBatch,
  members: readonly Member[],
  o: UpdateOptions,
  refModel: VisionLanguageModel | null,
): UpdateDiagnostics {
  const ordered = [
    ...members.filter((m) => m.kind === 'rollout'),
    ...members.filter((m) => m.kind === 'label'),
  ];
  const nRollouts = ordered.findIndex((m) => m.kind === 'label');
  const rolloutCount = nRollouts === -1 ? ordered.length : nRollouts;
  const lengths = seqLengths(ordered);
  const objectiveOf = (m: Member): MemberObjective =>
    m.objective ?? (o.loss === 'nll' ? 'nll' : 'clipped');
  const offsets: number[] = [];
  lengths.reduce((acc, l, i) => ((offsets[i] = acc), acc + l), 0);
  const weights = batchWeights(ordered, lengths, offsets, objectiveOf, o);

  const needOld = ordered.some((m) => objectiveOf(m) === 'clipped') && o.epochs > 1;
  const oldLogp = needOld ? scoreMembers(model, images, ordered, o.microBatch, o.arena) : null;
  const refLogp =
    o.klCoef > 0 && refModel
      ? scoreMembers(refModel, images, ordered, o.microBatch, o.arena)
      : null;

  const d: UpdateDiagnostics = {
    loss: 0,
    clipFraction: 0,
    approxKl: 0,
    entropy: NaN,
    kl: 0,
    labelNll: NaN,
    gradNorm: 0,
    gradNormRl: 0,
    gradNormSft: 0,
    clipScale: 1,
    skipped: false,
    forwardTokens: 0,
    backwardTokens: 0,
  };

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    opt.zeroGrad();
    let loss = 0;
    let clipped = 0;
    let counted = 0;
    let approxKlSum = 0;
    let entropySum = 0;
    let klSum = 0;
    let labelNllSum = 0;
    let labelTokensRun = 0;
    let rolloutTokensRun = 0;
    let rlSnapshot: Float32Array[] | null = null;
    // Members whose gradient is identically zero (advantage 0, no KL or entropy term) are not
    // run at all: their weights still count in the batch normalisation above.
    const inert = (m: Member) =>
      (m.coef === 0 || (objectiveOf(m) !== 'nll' && m.advantage === 0)) &&
      o.klCoef === 0 &&
      o.entropyCoef === 0;
    const active = ordered.map((_, i) => i).filter((i) => !inert(ordered[i]!));
    const byLength = (i: number) => memberLength(ordered[i]!);
    // Rollouts before labels (the gradient-norm split), and one objective per micro-batch.
    const parts = (['clipped', 'shaped', 'nll'] as const).flatMap((obj) => [
      ...chunk(
        active.filter((i) => i < rolloutCount && objectiveOf(ordered[i]!) === obj),
        o.microBatch,
        byLength,
      ),
    ]);
    parts.push(
      ...(['clipped', 'shaped', 'nll'] as const).flatMap((obj) =>
        chunk(
          active.filter((i) => i >= rolloutCount && objectiveOf(ordered[i]!) === obj),
          o.microBatch,
          byLength,
        ),
      ),
    );
    for (const idx of parts) {
      const mb = idx.map((i) => ordered[i]!);
      const isLabelPart = idx[0]! >= rolloutCount;
      if (isLabelPart && rlSnapshot === null && epoch === 0) {
        d.gradNormRl = gradNormOf(model);
        rlSnapshot = snapshotGrads(model);
      }
      withArena(o.arena, () => {
        const { images: imgs, batch } = microBatchInputs(images, mb);
        const { logp, entropy } = scoreResponses(model, imgs, batch, !isLabelPart);
        const tokensHere = batch.text.tokens.length + mb.length * imageTokenCount(model);
        d.forwardTokens += tokensHere;
        d.backwardTokens += tokensHere;
        const lp = packResponses(logp.data, batch);
        const n = lp.length;
        const w = concat64(
          idx.map((i) => weights.subarray(offsets[i]!, offsets[i]! + lengths[i]!)),
        );
        const seqLens = mb.map((m) => m.response.length);
        let g: Float64Array;
        const objective = objectiveOf(mb[0]!);
        if (objective === 'nll') {
          const r = sftLoss({ logp: lp, seqLengths: seqLens }, { weights: w });
          loss += r.loss;
          g = r.dLossDLogp;
        } else if (objective === 'shaped') {
          const r = shapedPolicyLoss(
            { logp: lp, advantages: mb.map((m) => m.advantage), seqLengths: seqLens },
            { gamma: o.shapingGamma, weights: w },
          );
          loss += r.loss;
          g = r.dLossDLogp;
        } else {
          const old = oldLogp ? concat64(idx.map((i) => oldLogp[i]!)) : lp;
          const r = policyLoss(
            { logp: lp, oldLogp: old, advantages: mb.map((m) => m.advantage), seqLengths: seqLens },
            { clipLow: o.clipLow, clipHigh: o.clipHigh, weights: w },
          );
          loss += r.loss;
          g = r.dLossDLogp;
          // Token-count-weighted averages across micro-batches.
          let countedHere = 0;
          for (let t = 0; t < n; t++) if (w[t] !== 0) countedHere++;
          clipped += r.clipFraction * countedHere;
          approxKlSum += r.approxKl * countedHere;
          counted += countedHere;
        }
        if (refLogp) {
          const ref = concat64(idx.map((i) => refLogp[i]!));
          const kl = klLoss({ logp: lp, refLogp: ref, seqLengths: seqLens }, o.klKind, {
            weights: w,
          });
          loss += o.klCoef * kl.loss;
          for (let t = 0; t < n; t++) g[t] = g[t]! + o.klCoef * kl.dLossDLogp[t]!;
          const perToken = klPenalty(lp, ref, o.klKind).kl;
          for (let t = 0; t < n; t++) klSum += perToken[t]!;
        }
        let o2 = 0;
        for (const m of mb) {
          if (m.kind === 'label') {
            for (let t = 0; t < m.response.length; t++) labelNllSum -= lp[o2 + t]!;
            labelTokensRun += m.response.length;
          } else rolloutTokensRun += m.response.length;
          o2 += m.response.length;
        }
        let root = weightedSum(logp, unpackResponses(g, batch));
        if (entropy) {
          const ent = packResponses(entropy.data, batch);
          for (let t = 0; t < n; t++) entropySum += ent[t]!;
          if (o.entropyCoef > 0) {
            // Bonus: loss -= coef Σ w_t H_t.
            const ge = new Float64Array(n);
            for (let t = 0; t < n; t++) {
              ge[t] = -o.entropyCoef * w[t]!;
              loss += ge[t]! * ent[t]!;
            }
            root = add(root, weightedSum(entropy, unpackResponses(ge, batch)));
          }
        }
        backward(root);
      });
    }
    if (epoch === 0) {
      if (rlSnapshot) d.gradNormSft = normOfDifference(model, rlSnapshot);
      else d.gradNormRl = rolloutCount > 0 ? gradNormOf(model) : 0;
      if (rolloutCount === 0) {
        d.gradNormSft = gradNormOf(model);
        d.gradNormRl = 0;
      }
    }
    // A non-finite loss with finite gradients must not reach the weights either.
    const report = Number.isFinite(loss)
      ? opt.step(o.lr)
      : { gradNorm: NaN, clipScale: 0, skipped: true };
    d.loss = loss;
    d.gradNorm = report.gradNorm;
    d.clipScale = report.clipScale;
    d.skipped = report.skipped;
    d.clipFraction = counted ? clipped / counted : 0;
    d.approxKl = counted ? approxKlSum / counted : 0;
    // Averages over the tokens actually run (zero-advantage members are skipped).
    d.entropy = rolloutTokensRun ? entropySum / rolloutTokensRun : NaN;
    d.kl = refLogp ? klSum / Math.max(1, rolloutTokensRun + labelTokensRun) : 0;
    d.labelNll = labelTokensRun ? labelNllSum / labelTokensRun : NaN;
    if (report.skipped || !Number.isFinite(loss)) {
      d.skipped = true;
      break;
    }
  }
  return d;
}

/**
 * Per-token weights of the whole batch, loss = Σ_t w_t ℓ_t: the policy members (`clipped`,
 * `shaped`) normalised together by `aggregation`, the `nll` members by `sftAggregation`, each
 * member's weights times its `coef`.
 */
function batchWeights(
  ordered: readonly Member[],
  lengths: readonly number[],
  offsets: readonly number[],
  objectiveOf: (m: Member) => MemberObjective,
  o: UpdateOptions,
): Float64Array {
  const total = lengths.reduce((a, b) => a + b, 0);
  const out = new Float64Array(total);
  for (const nll of [false, true]) {
    const idx = ordered
      .map((_, i) => i)
      .filter((i) => (objectiveOf(ordered[i]!) === 'nll') === nll);
    if (idx.length === 0) continue;
    const seqLengths = idx.map((i) => lengths[i]!);
    const masked = idx.some((i) => (ordered[i]!.lossFrom ?? 0) > 0);
    const mask = masked
      ? Float64Array.from(
          idx.flatMap((i) => {
            const from = ordered[i]!.lossFrom ?? 0;
            return Array.from({ length: lengths[i]! }, (_, t) => (t < from ? 0 : 1));
          }),
        )
      : undefined;
    const w = aggregationWeights(
      { seqLengths, ...(mask ? { mask } : {}) },
      { aggregation: nll ? o.sftAggregation : o.aggregation, normLength: o.normLength },
    );
    let k = 0;
    for (const i of idx) {
      const c = ordered[i]!.coef ?? 1;
      for (let t = 0; t < lengths[i]!; t++) out[offsets[i]! + t] = c * w[k++]!;
    }
  }
  return out;
}

function concat64(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function imageTokenCount(model: VisionLanguageModel): number {
  const c = model.config;
  return (c.image.size / c.image.patch) ** 2;
}
