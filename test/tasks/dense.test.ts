/** Dense scene labels: every cell's label agrees with the pixels of the scene it describes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COLORS,
  COLOR_NAMES,
  DENSE_COLOURS,
  DENSE_SHAPES,
  Rng,
  SHAPES,
  generateDenseScene,
} from '../../src/tasks/index.js';

test('dense scenes: object cells show their colour; labels and boxes are in range; seeded', () => {
  const rng = new Rng(3);
  let objectCells = 0;
  for (let n = 0; n < 40; n++) {
    const s = generateDenseScene(rng, 64, 8);
    assert.equal(s.colour.length, 64);
    for (let c = 0; c < 64; c++) {
      assert.ok(s.colour[c]! >= 0 && s.colour[c]! < DENSE_COLOURS);
      assert.ok(s.shape[c]! >= 0 && s.shape[c]! < DENSE_SHAPES);
      const isBg = s.colour[c] === COLOR_NAMES.length;
      assert.equal(isBg, s.shape[c] === SHAPES.length);
      assert.equal(s.hasObject[c], isBg ? 0 : 1);
      if (isBg) {
        assert.ok(s.digits.subarray(c * 12, c * 12 + 12).every((v) => v === -1));
        assert.ok(s.coords.subarray(c * 6, c * 6 + 6).every((v) => v === -1));
        continue;
      }
      objectCells++;
      // at least 8 of the cell's 64 pixels carry the labelled colour exactly
      const rgb = COLORS[COLOR_NAMES[s.colour[c]!]!];
      const gy = Math.floor(c / 8);
      const gx = c % 8;
      let hits = 0;
      for (let y = gy * 8; y < gy * 8 + 8; y++)
        for (let x = gx * 8; x < gx * 8 + 8; x++) {
          const o = (y * 64 + x) * 3;
          if (rgb.every((v, k) => s.image.data[o + k] === v)) hits++;
        }
      assert.ok(hits >= 8, `cell ${c} has ${hits} pixels of its colour`);
      const [x1, y1, x2, y2] = Array.from(s.box.subarray(c * 4, c * 4 + 4));
      assert.ok(0 <= x1! && x1! <= x2! && x2! < 1 && 0 <= y1! && y1! <= y2! && y2! < 1);
      // the digit labels spell the box's pixel coordinates
      const d = s.digits.subarray(c * 12, c * 12 + 12);
      assert.equal(10 * d[0]! + d[1]!, Math.round(x1! * 64));
      assert.equal(10 * d[6]! + d[7]!, Math.round(y2! * 64));
      // the coordinate labels are those numbers themselves
      const xy = s.coords.subarray(c * 6, c * 6 + 6);
      assert.deepEqual([xy[0], xy[3]], [Math.round(x1! * 64), Math.round(y2! * 64)]);
      assert.ok(xy.every((v) => v >= 0 && v < 64));
      // the box contains the cell's covered pixels: it overlaps the cell
      assert.ok(x2! * 64 >= gx * 8 && x1! * 64 < gx * 8 + 8 && y2! * 64 >= gy * 8);
    }
  }
  assert.ok(objectCells > 100, `${objectCells} object cells in 40 scenes`);
  const a = generateDenseScene(new Rng(9), 64, 8);
  const b = generateDenseScene(new Rng(9), 64, 8);
  assert.deepEqual(a.image.data, b.image.data);
  assert.deepEqual(a.shape, b.shape);
});
