/**
 * Hand-computed COCOeval corner cases: crowd regions, ties in score, IoU exactly at a threshold,
 * area-range boundaries, empty inputs; and the COCO index's query methods.
 */
import { describe, expect, it } from 'vitest';
import { CocoDataset } from '../../data/coco/dataset.js';
import type { CocoResult } from '../../data/coco/types.js';
import { evaluateCoco } from '../../detection/eval/coco.js';
import { linspace } from '../../detection/eval/coco-params.js';

type Box = [number, number, number, number];
interface G {
  img?: number;
  cat?: number;
  bbox: Box;
  area?: number;
  crowd?: number;
}

function gtSet(gts: G[], images = [1], cats = [1]) {
  return {
    images: images.map((id) => ({ id, width: 200, height: 200 })),
    categories: cats.map((id) => ({ id, name: `c${id}` })),
    annotations: gts.map((g, i) => ({
      id: i + 1,
      image_id: g.img ?? 1,
      category_id: g.cat ?? 1,
      bbox: g.bbox,
      area: g.area ?? g.bbox[2] * g.bbox[3],
      iscrowd: g.crowd ?? 0,
    })),
  };
}

/** 1 / (1 + eps) is pycocotools' precision for a perfect hit, so "1" means within 1e-12. */
const near = (v: number, want: number) => expect(Math.abs(v - want)).toBeLessThan(1e-12);

const det = (bbox: Box, score: number, img = 1, cat = 1): CocoResult => ({
  image_id: img,
  category_id: cat,
  bbox,
  score,
});

describe('COCOeval semantics on hand-computed cases', () => {
  it('uses numpy linspace values for the thresholds', () => {
    const t = linspace(0.5, 0.95, 10);
    expect(t[8]).toBe(0.8999999999999999);
    expect(t[5]).toBe(0.75);
    expect(t[9]).toBe(0.95);
    expect(linspace(0, 1, 101)[3]).toBe(0.03);
  });

  it('a crowd region absorbs any number of detections, which are then ignored', () => {
    const gts: G[] = [{ bbox: [0, 0, 10, 10] }, { bbox: [20, 0, 20, 20], crowd: 1 }];
    const dets = [det([20, 0, 10, 10], 0.95), det([30, 10, 10, 10], 0.96), det([0, 0, 10, 10], 0.9)];
    const s = evaluateCoco(gtSet(gts), dets);
    near(s.AP, 1);
    // The same region as an ordinary object: the two high-scoring boxes (IoU .25) are false positives.
    const s2 = evaluateCoco(gtSet([gts[0], { bbox: [20, 0, 20, 20] }]), dets);
    expect(s2.AP).toBeLessThan(0.5);
  });

  it('matches at IoU exactly equal to a threshold', () => {
    // IoU = 50/100 = 0.5: a hit at t = .50 only; 75/100: hits for t <= .75 (6 of 10 thresholds).
    const half = evaluateCoco(gtSet([{ bbox: [0, 0, 10, 10] }]), [det([0, 0, 10, 5], 0.9)]);
    near(half.AP, 0.1);
    near(half.AP50, 1);
    expect(half.AP75).toBe(0);
    const threeQ = evaluateCoco(gtSet([{ bbox: [0, 0, 10, 10] }]), [det([0, 0, 10, 7.5], 0.9)]);
    near(threeQ.AP, 0.6);
    near(threeQ.AP75, 1);
  });

  it('equal scores keep the results-file order (stable sort)', () => {
    const gts = gtSet([{ bbox: [0, 0, 10, 10] }]);
    const miss = det([50, 50, 10, 10], 0.5);
    const hit = det([0, 0, 10, 10], 0.5);
    near(evaluateCoco(gts, [miss, hit]).AP, 0.5);
    near(evaluateCoco(gts, [hit, miss]).AP, 1);
  });

  it('equal scores across images rank in ascending image id order', () => {
    // Image 2's miss ties with image 1's hit; image 1 comes first whatever the file order.
    const gts = gtSet([{ img: 1, bbox: [0, 0, 10, 10] }], [1, 2]);
    const a = evaluateCoco(gts, [det([0, 0, 10, 10], 0.5, 1), det([0, 0, 10, 10], 0.5, 2)]);
    const b = evaluateCoco(gts, [det([0, 0, 10, 10], 0.5, 2), det([0, 0, 10, 10], 0.5, 1)]);
    near(a.AP, 1);
    near(b.AP, 1);
    // Without that rule the miss would rank first in b and give AP 0.5.
  });

  it('area ranges use the annotation area, bounds inclusive on both sides', () => {
    // area exactly 32^2 is both small and medium; w*h (900) would make it small only.
    const s = evaluateCoco(gtSet([{ bbox: [0, 0, 30, 30], area: 1024 }]), [det([0, 0, 30, 30], 0.9)]);
    near(s.APs, 1);
    near(s.APm, 1);
    expect(s.APl).toBe(-1);
    expect([s.ARs, s.ARm, s.ARl]).toEqual([1, 1, -1]);
  });

  it('keeps the 100 best detections per image and category; AR1 uses the best one', () => {
    const gts = gtSet([{ bbox: [0, 0, 10, 10] }, { bbox: [100, 100, 10, 10] }]);
    const dets = [det([0, 0, 10, 10], 0.99)];
    for (let i = 0; i < 100; i++) dets.push(det([150, 150, 5, 5], 0.9 - i / 1000));
    dets.push(det([100, 100, 10, 10], 0.1)); // 102nd by score: cut
    const s = evaluateCoco(gts, dets);
    expect(s.AR100).toBe(0.5);
    expect(s.AR1).toBe(0.5);
  });

  it('no detections: AP 0 where there is GT; no GT: -1', () => {
    const s = evaluateCoco(gtSet([{ bbox: [0, 0, 10, 10] }]), []);
    expect(s.AP).toBe(0);
    expect(s.AR100).toBe(0);
    const e = evaluateCoco(gtSet([]), [det([0, 0, 10, 10], 0.9)]);
    expect(e.stats.every((v) => v === -1)).toBe(true);
  });
});

describe('CocoDataset queries', () => {
  const ds = CocoDataset.fromJson(
    {
      images: [{ id: 5 }, { id: 2 }, { id: 9 }],
      categories: [
        { id: 3, name: 'cat', supercategory: 'animal' },
        { id: 1, name: 'car', supercategory: 'vehicle' },
      ],
      annotations: [
        { id: 10, image_id: 5, category_id: 3, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 },
        { id: 11, image_id: 2, category_id: 1, bbox: [0, 0, 20, 20], area: 400, iscrowd: 1 },
        { id: 12, image_id: 5, category_id: 1, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 },
      ],
    },
    'mem',
  );
  it('filters images by category', () => {
    expect(ds.getImgIds()).toEqual([2, 5, 9]);
    expect(ds.getImgIds({ catIds: [1] })).toEqual([2, 5]);
    expect(ds.getImgIds({ catIds: [1, 3] })).toEqual([5]);
    expect(ds.getImgIds({ imgIds: [2, 9], catIds: [1] })).toEqual([2]);
  });
  it('filters categories by name, supercategory and id', () => {
    expect(ds.getCatIds()).toEqual([3, 1]);
    expect(ds.getCatIds({ catNms: ['car'] })).toEqual([1]);
    expect(ds.getCatIds({ supNms: ['animal'] })).toEqual([3]);
    expect(ds.getCatIds({ catIds: [1, 7] })).toEqual([1]);
  });
  it('filters annotations by image (in the given order), category, area and crowd', () => {
    expect(ds.getAnnIds()).toEqual([10, 11, 12]);
    expect(ds.getAnnIds({ imgIds: [5, 2] })).toEqual([10, 12, 11]);
    expect(ds.getAnnIds({ catIds: [1] })).toEqual([11, 12]);
    expect(ds.getAnnIds({ areaRng: [25, 400] })).toEqual([10]);
    expect(ds.getAnnIds({ iscrowd: false })).toEqual([10, 12]);
    expect(ds.loadAnns([12])[0].area).toBe(25);
    expect(ds.loadCats([3])[0].name).toBe('cat');
    expect(() => ds.loadImgs([4])).toThrow(/no image with id 4/);
  });
  it('loadRes sets area = w*h, iscrowd 0 and ids from 1', () => {
    const res = ds.loadRes([det([1, 2, 3, 4], 0.5, 9, 3)], 'r.json');
    const a = res.loadAnns([1])[0];
    expect([a.area, a.iscrowd, a.score, a.image_id]).toEqual([12, 0, 0.5, 9]);
    expect(res.getImgIds({ catIds: [3] })).toEqual([9]);
  });
});
