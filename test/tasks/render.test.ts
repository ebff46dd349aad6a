import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKGROUNDS,
  canRender,
  COLORS,
  composeScene,
  createImage,
  drawText,
  maskArea,
  maskBox,
  maskPoint,
  rasterizeShape,
  renderBackground,
  Rng,
  SHAPES,
  textWidth,
  type ObjectSpec,
} from '../../src/tasks/index.js';

test('shapes: masks are non-empty, symmetric where expected, and contained in their radius', () => {
  for (const shape of SHAPES) {
    const m = rasterizeShape(shape, 20, 20, 8, 41, 41);
    const area = maskArea(m);
    assert.ok(area > 20, `${shape} area ${area}`);
    const b = maskBox(m, 41)!;
    assert.ok(b[0] >= 11 && b[2] <= 29 && b[1] >= 11 && b[3] <= 29, `${shape} box ${b}`);
    // Left-right mirror symmetry about the centre column.
    for (let y = 0; y < 41; y++)
      for (let x = 0; x < 41; x++)
        assert.equal(m[y * 41 + x], m[y * 41 + (40 - x)], `${shape} symmetric`);
  }
  const ring = rasterizeShape('ring', 20, 20, 8, 41, 41);
  assert.equal(ring[20 * 41 + 20], 0, 'a ring has a hole');
  const p = maskPoint(ring, 41)!;
  assert.equal(ring[p[1] * 41 + p[0]], 1, 'the representative point lies on the mask');
});

test('font: known glyphs render with the documented width', () => {
  assert.equal(textWidth('SAVE'), 15);
  assert.equal(textWidth('AB', 2), 14);
  assert.ok(canRender('Save 12+3?'));
  assert.ok(!canRender('é'));
  const img = createImage(20, 7);
  const mask = new Uint8Array(20 * 7);
  drawText(img, 'H1', 1, 1, [255, 255, 255], 1, mask);
  // H: ink in both side columns on every row.
  for (let r = 0; r < 5; r++) {
    assert.equal(mask[(1 + r) * 20 + 1], 1);
    assert.equal(mask[(1 + r) * 20 + 3], 1);
  }
  assert.deepEqual(maskBox(mask, 20), [1, 1, 7, 5]);
});

test('scenes: painted pixels are exactly the masks; objects never overlap', () => {
  const rng = new Rng(9);
  for (let t = 0; t < 200; t++) {
    const specs: ObjectSpec[] = Array.from({ length: rng.int(1, 5) }, () => ({
      shape: rng.pick(SHAPES),
      color: rng.pick(Object.keys(COLORS) as (keyof typeof COLORS)[]),
      radius: rng.int(3, 8),
    }));
    const scene = composeScene(rng, specs, { width: 64, height: 64, background: 'solid' });
    if (!scene) continue;
    const owner = new Int8Array(64 * 64).fill(-1);
    scene.objects.forEach((o, k) => {
      for (let p = 0; p < o.mask.length; p++) {
        if (!o.mask[p]) continue;
        assert.equal(owner[p], -1, 'masks are disjoint');
        owner[p] = k;
        const c = COLORS[o.color];
        assert.deepEqual([...scene.image.data.subarray(p * 3, p * 3 + 3)], [...c]);
      }
      assert.deepEqual(maskBox(o.mask, 64), o.box);
    });
  }
});

test('backgrounds: every kind is deterministic and stays dull', () => {
  for (const kind of BACKGROUNDS) {
    const a = renderBackground(new Rng(3), 32, 32, kind);
    const b = renderBackground(new Rng(3), 32, 32, kind);
    assert.deepEqual(a.data, b.data);
    assert.ok(Math.max(...a.data) < 130, `${kind} is dull`);
  }
});
