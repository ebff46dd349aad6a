/**
 * Reverse-mode differentiation over the graph recorded by ops (see ./tensor.ts).
 */
import { recycleF32 } from './memory.js';
import { ShapeError, Tensor, formatShape } from './tensor.js';

/** Tensors reachable from root that need gradients, inputs before the ops that use them. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative post-order DFS: deep graphs (hundreds of ops) must not overflow the JS stack.
  const stack: Array<[Tensor, number]> = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    if (i < t.parents.length) {
      top[1] = i + 1;
      const p = t.parents[i]!;
      if (p.requiresGrad && !visited.has(p)) {
        visited.add(p);
        stack.push([p, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order;
}

/**
 * Backpropagate from root. With no seed, root must be a scalar and gets gradient 1; with a seed
 * (same size as root), the seed is its gradient — the trainer uses this to push dLoss/dlogp,
 * computed by the pure algorithm functions, into the model.
 *
 * The graph is consumed: intermediate gradients and saved activations are released as soon as
 * they have been used, so memory falls during the backward pass. Leaves (parameters) keep their
 * accumulated gradients.
 */
export function backward(root: Tensor, seed?: ArrayLike<number>): void {
  if (!root.requiresGrad) {
    throw new ShapeError('backward: the tensor does not require gradients (nothing to train)');
  }
  if (seed === undefined && root.size !== 1) {
    throw new ShapeError(
      `backward: root has shape ${formatShape(root.shape)}; pass a seed gradient or reduce to a scalar`,
    );
  }
  if (seed !== undefined && seed.length !== root.size) {
    throw new ShapeError(
      `backward: seed has ${seed.length} values but root has shape ${formatShape(root.shape)}`,
    );
  }
  const g = root.gradBuffer();
  if (seed === undefined) g[0]! += 1;
  else for (let i = 0; i < g.length; i++) g[i]! += seed[i]!;

  const order = topologicalOrder(root);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    if (t.isLeaf) continue;
    if (t.grad) t.backwardFn!();
    // Release what this node held: its gradient (unless asked to keep it) and its closure, which
    // references the activations saved for backward. The gradient buffer goes straight back to
    // the step arena, so the backward pass reuses a handful of gradient buffers instead of
    // holding one per activation (peak memory ≈ activations + a few gradients, as in PyTorch).
    if (!t.retainGrad) {
      if (t.grad) recycleF32(t.grad);
      t.grad = null;
    }
    t.backwardFn = null;
    t.parents = [];
  }
}
