/**
 * The optimised COCO evaluator against a literal transcription of cocoeval.py (coco-naive.ts) on
 * random sets built to hit the corner cases often: boxes on an integer grid (IoUs exactly at the
 * thresholds), scores from a few values (ties within and across images), crowd regions, areas
 * exactly 32² and 96², more than 100 detections in one image and category, a GT with id 0.
 * Tolerance 1e-12 on the 12 stats and on every entry of the precision array.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { evaluateCoco } from '../../detection/eval/coco.js';
import { defaultCocoParams } from '../../detection/eval/coco-params.js';
import { type NaiveDt, type NaiveGt, naiveCocoEval } from './coco-naive.js';

function randomSet(seed: number) {
  const rng = new Rng(seed);
  const imgIds: number[] = [];
  let id = 10;
  for (let i = rng.int(3, 8); i > 0; i--) {
    id += rng.int(1, 5);
    imgIds.push(id);
  }
  rng.shuffle(imgIds); // the evaluator must sort them
  const catIds = [1, 2, 5].slice(0, rng.int(1, 3));
  const side = [4, 8, 10, 16, 20, 32, 40, 96, 100];
  const box = (): number[] => [
    rng.int(0, 12) * 5,
    rng.int(0, 12) * 5,
    side[rng.int(0, 8)],
    side[rng.int(0, 8)],
  ];
  const gts: NaiveGt[] = [];
  let gid = seed % 3 === 0 ? 0 : 1; // a GT with id 0 in a third of the sets
  for (const img of imgIds) {
    for (let j = rng.int(0, 6); j > 0; j--) {
      const b = box();
      const special = rng.int(0, 5);
      const area = special === 0 ? 1024 : special === 1 ? 9216 : b[2] * b[3] * (rng.bool() ? 1 : 0.6);
      gts.push({
        id: gid++,
        image_id: img,
        category_id: catIds[rng.int(0, catIds.length - 1)],
        bbox: b,
        area,
        iscrowd: rng.bool(0.1) ? 1 : 0,
      });
    }
  }
  const dts: NaiveDt[] = [];
  const push = (img: number, cat: number, b: number[]) =>
    dts.push({
      id: dts.length + 1,
      image_id: img,
      category_id: cat,
      bbox: b,
      score: rng.int(1, 6) / 7,
      area: b[2] * b[3],
    });
  for (const img of imgIds) {
    for (const g of gts.filter((x) => x.image_id === img)) {
      for (let c = rng.int(0, 3); c > 0; c--) {
        const b = [...g.bbox];
        if (rng.bool()) b[rng.int(0, 3)] += rng.int(-2, 2) * (g.bbox[2] / 4);
        if (b[2] > 0 && b[3] > 0) push(img, rng.bool(0.85) ? g.category_id : catIds[0], b);
      }
    }
    for (let j = rng.int(0, 5); j > 0; j--) push(img, catIds[rng.int(0, catIds.length - 1)], box());
  }
  if (rng.bool(0.5)) for (let j = 0; j < 105; j++) push(imgIds[0], catIds[0], box());
  if (rng.bool(0.7)) {
    // Two GTs at exactly equal IoU to one detection (the later GT wins it), then a detection
    // that only the earlier one fits well.
    const img = imgIds[imgIds.length - 1];
    const cat = catIds[0];
    for (const x of [200, 220])
      gts.push({
        id: gid++,
        image_id: img,
        category_id: cat,
        bbox: [x, 200, 40, 40],
        area: 1600,
        iscrowd: 0,
      });
    dts.push({
      id: dts.length + 1,
      image_id: img,
      category_id: cat,
      bbox: [210, 200, 40, 40],
      score: 0.99,
      area: 1600,
    });
    dts.push({
      id: dts.length + 1,
      image_id: img,
      category_id: cat,
      bbox: [200, 200, 40, 40],
      score: 0.98,
      area: 1600,
    });
  }
  return { imgIds, catIds, gts, dts };
}

describe('COCO evaluator vs a literal transcription of cocoeval.py', () => {
  const p = defaultCocoParams();
  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('random set %i', (seed) => {
    const { imgIds, catIds, gts, dts } = randomSet(seed);
    const gtJson = {
      images: imgIds.map((id) => ({ id })),
      categories: catIds.map((id) => ({ id, name: `c${id}` })),
      annotations: gts,
    };
    const results = dts.map((d) => ({
      image_id: d.image_id,
      category_id: d.category_id,
      bbox: d.bbox,
      score: d.score,
    }));
    const ours = evaluateCoco(gtJson, results);
    const ref = naiveCocoEval(
      [...imgIds].sort((a, b) => a - b),
      [...catIds].sort((a, b) => a - b),
      gts,
      dts,
      [...p.iouThrs],
      [...p.recThrs],
    );
    for (let i = 0; i < 12; i++)
      expect(Math.abs(ours.stats[i] - ref.stats[i]), `stat ${i}`).toBeLessThan(1e-12);
    const { T, R, K, A, M } = ours.shape;
    let worst = 0;
    for (let t = 0; t < T; t++)
      for (let r = 0; r < R; r++)
        for (let k = 0; k < K; k++)
          for (let a = 0; a < A; a++)
            for (let m = 0; m < M; m++) {
              const d = Math.abs(
                ours.precision[(((t * R + r) * K + k) * A + a) * M + m] - ref.precision[t][r][k][a][m],
              );
              if (d > worst) worst = d;
            }
    expect(worst).toBeLessThan(1e-12);
  });
});
