/**
 * The performance caches must never change results: the bf16 copy of a weight is refreshed when
 * the optimizer (or anyone calling markModified) changes the weight, and gradient buffers handed
 * back to the step arena during backward are reused only after their last use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW,
  BufferArena,
  Tensor,
  backward,
  linear,
  rmsnorm,
  setBf16WeightCache,
  sum,
  swiglu,
  withArena,
  withMatmulDtype,
} from '../../src/engine/index.js';
import { assertClose, randArray } from '../helpers.js';

test('bf16 weight cache: outputs equal the uncached path before and after an optimizer step', () => {
  withMatmulDtype('bf16', () => {
    const w = Tensor.param(randArray(48 * 32, 1), [48, 32]);
    const x = new Tensor(randArray(5 * 32, 2), [5, 32]);
    const uncached = () => {
      setBf16WeightCache(false);
      try {
        return linear(x, w).data.slice();
      } finally {
        setBf16WeightCache(true);
      }
    };
    const y0 = linear(x, w).data.slice(); // fills the cache
    assertClose(linear(x, w).data, y0, 0, 0, 'cached call');
    assertClose(uncached(), y0, 0, 0, 'uncached call');
    // An optimizer step changes w: the next cached call must see the new values.
    const opt = new AdamW([w], { lr: 0.1 });
    w.grad = randArray(w.size, 3);
    opt.step();
    const y1 = linear(x, w).data.slice();
    assert.ok(
      y1.some((v, i) => v !== y0[i]),
      'the weight update changed the output',
    );
    assertClose(y1, uncached(), 0, 0, 'after the step');
    // A direct in-place write announced with markModified() is seen too.
    w.data[0] = 5;
    w.markModified();
    assertClose(linear(x, w).data, uncached(), 0, 0, 'after markModified');
  });
});

test('arena: gradients recycled during backward give the same gradients as without an arena', () => {
  const run = (arena: BufferArena | null) => {
    const w1 = Tensor.param(randArray(2 * 64 * 64, 4, 0.2), [128, 64]);
    const g = Tensor.param(new Float32Array(64).fill(1), [64]);
    const w2 = Tensor.param(randArray(64 * 64, 5, 0.2), [64, 64]);
    const x = new Tensor(randArray(1100 * 64, 6), [1100, 64]);
    const body = () => {
      // Every intermediate is >= 64k floats so it comes from the arena.
      const h = swiglu(linear(rmsnorm(x, g), w1));
      const y = linear(h, w2);
      backward(sum(linear(rmsnorm(y, g), w2)));
    };
    if (arena) withArena(arena, body);
    else body();
    return [w1, g, w2].map((p) => p.grad!.slice());
  };
  const plain = run(null);
  const arena = new BufferArena();
  run(arena); // first step fills the arena
  const reused = run(arena);
  plain.forEach((p, i) => assertClose(reused[i]!, p, 1e-6, 1e-6, `grad ${i}`));
});
