/**
 * The dense vision loss of the encoder's pre-training stage, as a pure function over arrays:
 * for every token cell, cross-entropy on its colour class and its shape class (background is a
 * class of each), and an L1 loss on the box of the object covering it (object cells only).
 *
 * Shapes (C = cells over the whole batch, K = colour classes, S = shape classes, H = digit
 * heads, 0 when digits are off, N = classes per digit head: 10 for decimal digits, the image
 * size for coordinate classes):
 *   out:       [C, K + S + 4 + N H]  (colour logits | shape logits | box x1 y1 x2 y2 in image
 *              units | H groups of N digit logits)
 *   colour:    [C] class ids;  shape: [C] class ids
 *   box:       [C, 4] targets; hasObject: [C] 1 where the box is a target
 *   digits:    [C, H] digit targets in [0, N) (used on object cells)
 * loss = mean_c CE(colour) + mean_c CE(shape) + boxWeight · mean over object cells and the 4
 * coordinates of |box - target| + digitWeight · mean over object cells and heads of CE(digit).
 * The gradient dLoss/dout has out's shape.
 */

export interface DenseTargets {
  colour: Int32Array;
  shape: Int32Array;
  box: Float32Array;
  hasObject: Uint8Array;
  /** [C, H] digit targets, needed when classes.digitHeads > 0 */
  digits?: Int32Array;
}

export interface DenseLossResult {
  loss: number;
  grad: Float32Array;
  /** fraction of object cells whose colour / shape is predicted right (argmax) */
  colourAccuracy: number;
  shapeAccuracy: number;
  /** mean absolute box error on object cells, in image units (× image size = pixels) */
  boxL1: number;
  /** fraction of object-cell digits predicted right (0 when digits are off) */
  digitAccuracy: number;
}

/** Softmax cross-entropy of one row slice; writes (p - onehot) * scale into grad; returns [loss, argmax]. */
function softmaxCe(
  out: Float32Array,
  grad: Float32Array,
  at: number,
  n: number,
  target: number,
  scale: number,
): [number, number] {
  let max = -Infinity;
  let arg = 0;
  for (let j = 0; j < n; j++)
    if (out[at + j]! > max) {
      max = out[at + j]!;
      arg = j;
    }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(out[at + j]! - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < n; j++) {
    const p = Math.exp(out[at + j]! - lse);
    grad[at + j] = (p - (j === target ? 1 : 0)) * scale;
  }
  return [lse - out[at + target]!, arg];
}

export function denseLoss(
  out: Float32Array,
  t: DenseTargets,
  classes: { colours: number; shapes: number; digitHeads?: number; digitClasses?: number },
  boxWeight: number,
  digitWeight = 1,
): DenseLossResult {
  const { colours: K, shapes: S } = classes;
  const H = classes.digitHeads ?? 0;
  const N = classes.digitClasses ?? 10;
  const D = K + S + 4 + N * H;
  if (H > 0 && (!t.digits || t.digits.length !== t.colour.length * H)) {
    throw new Error(`denseLoss: ${H} digit heads need ${t.colour.length * H} digit targets`);
  }
  const C = t.colour.length;
  if (out.length !== C * D) {
    throw new Error(`denseLoss: ${out.length} outputs for ${C} cells of ${D} values`);
  }
  const grad = new Float32Array(out.length);
  let objects = 0;
  for (let c = 0; c < C; c++) objects += t.hasObject[c]!;
  let loss = 0;
  let colourHits = 0;
  let shapeHits = 0;
  let l1 = 0;
  let digitHits = 0;
  for (let c = 0; c < C; c++) {
    const o = c * D;
    const [lc, ac] = softmaxCe(out, grad, o, K, t.colour[c]!, 1 / C);
    const [ls, as] = softmaxCe(out, grad, o + K, S, t.shape[c]!, 1 / C);
    loss += (lc + ls) / C;
    if (!t.hasObject[c]) continue;
    if (ac === t.colour[c]) colourHits++;
    if (as === t.shape[c]) shapeHits++;
    for (let k = 0; k < 4; k++) {
      const d = out[o + K + S + k]! - t.box[c * 4 + k]!;
      l1 += Math.abs(d);
      grad[o + K + S + k] = (boxWeight * Math.sign(d)) / (objects * 4);
    }
    for (let h = 0; h < H; h++) {
      const at = o + K + S + 4 + N * h;
      const target = t.digits![c * H + h]!;
      if (!(target >= 0 && target < N))
        throw new RangeError(
          `denseLoss: cell ${c} digit head ${h}: target ${target} is not in [0, ${N})`,
        );
      const [ld, ad] = softmaxCe(out, grad, at, N, target, digitWeight / (objects * H));
      loss += (digitWeight * ld) / (objects * H);
      if (ad === target) digitHits++;
    }
  }
  const boxL1 = objects ? l1 / (objects * 4) : 0;
  loss += boxWeight * boxL1;
  return {
    loss,
    grad,
    colourAccuracy: objects ? colourHits / objects : 0,
    shapeAccuracy: objects ? shapeHits / objects : 0,
    boxL1,
    digitAccuracy: objects && H ? digitHits / (objects * H) : 0,
  };
}
