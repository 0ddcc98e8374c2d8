/**
 * rlePairIou walks only the intersection of two RLEs and takes the union as |d| + |g| - |d & g|:
 * on random masks (blobs, stripes, empty, full, masks touching the image edges) it must equal,
 * as a double, the IoU counted pixel by pixel from the decoded masks, crowd or not.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { type Rle, rleArea, rleDecode, rleEncode, rlePairIou, rleToBbox } from '../../data/coco/mask.js';

function randomMask(rng: Rng, h: number, w: number): Uint8Array {
  const m = new Uint8Array(h * w);
  const kind = Math.floor(rng.next() * 5);
  if (kind === 0) return m;
  if (kind === 1) return m.fill(1);
  if (kind === 2) {
    // Noise: many short runs.
    for (let i = 0; i < m.length; i++) m[i] = rng.next() < 0.3 ? 1 : 0;
    return m;
  }
  // Rectangles (some at the edges), column-major as maskApi.
  const n = 1 + Math.floor(rng.next() * 3);
  for (let r = 0; r < n; r++) {
    const x0 = Math.floor(rng.next() * w);
    const y0 = Math.floor(rng.next() * h);
    const x1 = Math.min(w, x0 + 1 + Math.floor(rng.next() * w));
    const y1 = Math.min(h, y0 + 1 + Math.floor(rng.next() * h));
    for (let x = x0; x < x1; x++) for (let y = y0; y < y1; y++) m[x * h + y] = 1;
  }
  return m;
}

function pixelIou(a: Uint8Array, b: Uint8Array, crowd: boolean): number {
  let inter = 0;
  let uni = 0;
  let areaA = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) uni++;
    if (a[i]) areaA++;
  }
  if (inter === 0) return 0;
  return inter / (crowd ? areaA : uni);
}

describe('rlePairIou', () => {
  it('equals the pixel count IoU on 3000 random pairs', () => {
    const rng = new Rng(17);
    let compared = 0;
    for (let c = 0; c < 3000; c++) {
      const h = 1 + Math.floor(rng.next() * 12);
      const w = 1 + Math.floor(rng.next() * 12);
      const a = randomMask(rng, h, w);
      const b = randomMask(rng, h, w);
      const ra: Rle = rleEncode(a, h, w);
      const rb: Rle = rleEncode(b, h, w);
      expect(rleDecode(ra)).toEqual(a);
      const crowd = rng.next() < 0.3;
      const got = rlePairIou(ra, rb, crowd, rleToBbox(ra), rleToBbox(rb), rleArea(ra));
      expect(got).toBe(pixelIou(a, b, crowd));
      if (got > 0) compared++;
    }
    // Most pairs overlap: the walk, not only the box pre-check, is what was compared.
    expect(compared).toBeGreaterThan(1000);
  });
});
