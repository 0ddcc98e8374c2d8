import { describe, expect, it } from 'vitest';
import { type Canvas, discCoverage, fillCoverage, polygonCoverage } from '../../data/synth/raster.js';

/** Bounding box of the pixels that differ from zero. */
function paintedBox(c: Canvas): number[] {
  let [x1, y1, x2, y2] = [c.width, c.height, 0, 0];
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const o = (y * c.width + x) * 3;
      if (c.data[o] + c.data[o + 1] + c.data[o + 2] === 0) continue;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + 1);
      y2 = Math.max(y2, y + 1);
    }
  }
  return [x1, y1, x2, y2];
}

const blank = (): Canvas => ({ data: new Uint8Array(64 * 64 * 3), width: 64, height: 64 });

describe('synthetic raster boxes are tight', () => {
  it('a disc paints exactly the pixels of floor/ceil of its extent', () => {
    for (const [cx, cy, r] of [
      [20.3, 30.7, 9.2],
      [32, 32, 16],
      [10.5, 50.25, 4.6],
    ]) {
      const c = blank();
      fillCoverage(
        c,
        [cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1],
        [255, 255, 255],
        discCoverage(cx, cy, r),
      );
      const box = paintedBox(c);
      // Painting never leaves the box; the box is at most one pixel loose on a side (pixels the
      // outline only grazes get coverage that rounds to 0).
      const want = [Math.floor(cx - r), Math.floor(cy - r), Math.ceil(cx + r), Math.ceil(cy + r)];
      expect(box[0]).toBeGreaterThanOrEqual(want[0]);
      expect(box[1]).toBeGreaterThanOrEqual(want[1]);
      expect(box[2]).toBeLessThanOrEqual(want[2]);
      expect(box[3]).toBeLessThanOrEqual(want[3]);
      for (let k = 0; k < 4; k++) expect(Math.abs(box[k] - want[k])).toBeLessThanOrEqual(1);
    }
  });

  it('a triangle paints inside the floor/ceil box of its vertices', () => {
    const pts: Array<[number, number]> = [
      [5.2, 40.9],
      [30.6, 3.1],
      [58.7, 50.4],
    ];
    const c = blank();
    fillCoverage(c, [0, 0, 64, 64], [255, 255, 255], polygonCoverage(pts));
    const box = paintedBox(c);
    const want = [5, 3, 59, 51];
    for (let k = 0; k < 4; k++) expect(Math.abs(box[k] - want[k])).toBeLessThanOrEqual(1);
    expect(box[0]).toBeGreaterThanOrEqual(want[0]);
    expect(box[3]).toBeLessThanOrEqual(want[3]);
  });
});
