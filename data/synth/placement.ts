import type { Rng } from '../../core/rng.js';

export type Box = [number, number, number, number];

/** Area of intersection over the smaller box's area: how much of one box another one hides. */
export function overlapOfSmaller(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const area = (r: Box) => (r[2] - r[0]) * (r[3] - r[1]);
  return (iw * ih) / Math.min(area(a), area(b));
}

export interface PlacementOptions {
  /** Canvas side. */
  size: number;
  /** Objects per image, inclusive range. */
  count: [number, number];
  /** Object side as a fraction of the canvas side, range. */
  scale: [number, number];
  /** A new object may hide at most this fraction of a smaller one (and vice versa). */
  maxOverlap: number;
}

/**
 * Square footprints for 1..n objects, fully inside the canvas and overlapping little. When a spot
 * cannot be found in a few tries the image simply gets fewer objects (but always at least one).
 */
export function placeFootprints(rng: Rng, opts: PlacementOptions): Box[] {
  const want = rng.int(opts.count[0], opts.count[1]);
  const placed: Box[] = [];
  for (let k = 0; k < want; k++) {
    for (let attempt = 0; attempt < 30; attempt++) {
      // Later objects get smaller when the first tries fail, so crowded images still fill up.
      const shrink = attempt < 15 ? 1 : 0.7;
      const side =
        opts.size * rng.uniform(opts.scale[0], opts.scale[0] + (opts.scale[1] - opts.scale[0]) * shrink);
      const x = rng.uniform(0, opts.size - side);
      const y = rng.uniform(0, opts.size - side);
      const box: Box = [x, y, x + side, y + side];
      if (placed.every((p) => overlapOfSmaller(p, box) <= opts.maxOverlap)) {
        placed.push(box);
        break;
      }
    }
  }
  return placed;
}
