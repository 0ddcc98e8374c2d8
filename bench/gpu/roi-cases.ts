import { Rng } from '../../core/rng.js';

/**
 * RoI op cases for the kernel checks (bench/gpu/roi-check.ts on a GPU, the emulator tests here):
 * boxes inside, across and outside the map, tiny and inverted ones, both RoIAlign conventions,
 * fixed and adaptive sampling, RoIPool; and the R50-C4 detector's own shape.
 */
export interface RoiCase {
  name: string;
  op: 'align' | 'pool';
  /** NHWC feature map. */
  map: [number, number, number, number];
  rois: number;
  pooled: number;
  spatialScale: number;
  samplingRatio: number;
  aligned: boolean;
  seed: number;
}

export function roiCases(opts: { large: boolean }): RoiCase[] {
  const base = { rois: 12, pooled: 3, spatialScale: 0.5, seed: 1 };
  const cases: RoiCase[] = [
    {
      ...base,
      name: 'align unaligned sr2',
      op: 'align',
      map: [2, 9, 11, 5],
      samplingRatio: 2,
      aligned: false,
    },
    {
      ...base,
      name: 'align aligned adaptive',
      op: 'align',
      map: [2, 9, 11, 5],
      samplingRatio: 0,
      aligned: true,
    },
    {
      ...base,
      name: 'align unaligned adaptive',
      op: 'align',
      map: [1, 7, 6, 3],
      samplingRatio: -1,
      aligned: false,
      seed: 2,
    },
    {
      ...base,
      name: 'align 7x7 sr1',
      op: 'align',
      map: [2, 12, 10, 4],
      pooled: 7,
      samplingRatio: 1,
      aligned: true,
      seed: 3,
    },
    { ...base, name: 'pool', op: 'pool', map: [2, 9, 11, 5], samplingRatio: 0, aligned: false },
    {
      ...base,
      name: 'pool 7x7 scale 1/16',
      op: 'pool',
      map: [1, 8, 9, 3],
      pooled: 7,
      spatialScale: 1 / 16,
      samplingRatio: 0,
      aligned: false,
      seed: 4,
    },
  ];
  if (opts.large) {
    // bench/gpu/detector.ts at 600x1000: conv4_x of a batch of 2 is 38x63x1024 (stride 16).
    const big = {
      map: [2, 38, 63, 1024] as [number, number, number, number],
      rois: 128,
      pooled: 14,
      spatialScale: 1 / 16,
      seed: 5,
    };
    cases.push({ ...big, name: 'R50-C4 align', op: 'align', samplingRatio: 0, aligned: true });
    cases.push({ ...big, name: 'R50-C4 pool', op: 'pool', samplingRatio: 0, aligned: false });
  }
  return cases;
}

/** [R, 5] rows (batch index, x1, y1, x2, y2) in image pixels (the map times 1 / spatialScale). */
export function caseRois(c: RoiCase): Float32Array {
  const rng = new Rng(c.seed);
  const [n, h, w] = c.map;
  const imgH = h / c.spatialScale;
  const imgW = w / c.spatialScale;
  const out = new Float32Array(c.rois * 5);
  for (let i = 0; i < c.rois; i++) {
    const kind = i % 6;
    let x1 = rng.uniform(-0.2, 1) * imgW;
    let y1 = rng.uniform(-0.2, 1) * imgH;
    let x2 = x1 + rng.uniform(0.05, 0.8) * imgW;
    let y2 = y1 + rng.uniform(0.05, 0.8) * imgH;
    if (kind === 3) [x2, y2] = [x1 + 0.3, y1 + 0.2]; // smaller than a cell
    if (kind === 4) [x1, x2] = [x2, x1]; // inverted
    if (kind === 5) [x1, y1, x2, y2] = [imgW * 1.1, imgH * 1.05, imgW * 1.4, imgH * 1.3]; // off the map
    out.set([i % n, x1, y1, x2, y2], 5 * i);
  }
  return out;
}
