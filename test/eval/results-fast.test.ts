/**
 * The typed-array reader of results lists must give exactly JSON.parse's numbers (its fast
 * decimal conversion is only used where it is exact) and must hand anything unusual back to the
 * general path (null) rather than guess.
 */
import { describe, expect, it } from 'vitest';
import { parseCocoResultsFast } from '../../data/coco/results-fast.js';
import { Rng } from '../../core/rng.js';

const enc = (s: string) => Buffer.from(s, 'utf8');

describe('parseCocoResultsFast', () => {
  it('reproduces JSON.parse bit for bit on varied number spellings', () => {
    const rng = new Rng(11);
    const spell = (v: number): string => {
      switch (rng.int(0, 4)) {
        case 0:
          return String(v); // shortest round-trip (up to 17 digits)
        case 1:
          return v.toFixed(rng.int(0, 6));
        case 2:
          return v.toExponential(rng.int(0, 18));
        case 3:
          return v.toPrecision(rng.int(1, 21));
        default:
          return String(Math.round(v));
      }
    };
    const items: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const box = [rng.uniform(-5, 600), rng.uniform(-1, 1) * 1e-9, rng.uniform(1, 500), rng.uniform(1, 3)];
      items.push(
        `{"image_id": ${rng.int(1, 10)}, "bbox": [${box.map(spell).join(', ')}], "extra": {"a": [1, "x\\"]"]}, "score": ${spell(rng.next())}, "category_id": ${rng.int(1, 3)}, "flag": true}`,
      );
    }
    const text = `[\n${items.join(',\n')}\n]`;
    const ref = JSON.parse(text) as {
      image_id: number;
      category_id: number;
      bbox: number[];
      score: number;
    }[];
    const got = parseCocoResultsFast(enc(text));
    expect(got).not.toBeNull();
    if (!got) return;
    expect(got.n).toBe(ref.length);
    for (let i = 0; i < ref.length; i++) {
      expect(got.imageId[i]).toBe(ref[i].image_id);
      expect(got.categoryId[i]).toBe(ref[i].category_id);
      expect(got.score[i]).toBe(ref[i].score);
      for (let q = 0; q < 4; q++) expect(Object.is(got.bbox[i * 4 + q], ref[i].bbox[q])).toBe(true);
    }
  });

  it('grows its columns past the first guess (a record per 64 bytes), either key order', () => {
    // 58-byte records: 5000 of them overflow the first guess of ~4500.
    const recs = Array.from({ length: 5000 }, (_, i) => ({
      image_id: i % 7,
      category_id: 1 + (i % 3),
      bbox: [1, 2, 3 + (i % 5), 4],
      score: 1,
    }));
    for (const text of [
      JSON.stringify(recs),
      JSON.stringify(
        recs.map((r) => ({ score: r.score, bbox: r.bbox, category_id: r.category_id, image_id: r.image_id })),
      ),
    ]) {
      const got = parseCocoResultsFast(enc(text));
      expect(got?.n).toBe(5000);
      expect(Array.from(got?.bbox ?? [])).toEqual(recs.flatMap((r) => r.bbox));
      expect(Array.from(got?.imageId ?? [])).toEqual(recs.map((r) => r.image_id));
      expect(Array.from(got?.categoryId ?? [])).toEqual(recs.map((r) => r.category_id));
    }
  });

  it('reads an empty list', () => {
    expect(parseCocoResultsFast(enc(' [ ] '))?.n).toBe(0);
  });

  it.each([
    ['a NaN score', '[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":NaN}]'],
    ['a missing field', '[{"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]'],
    ['a zero width', '[{"image_id":1,"category_id":1,"bbox":[0,0,0,1],"score":0.5}]'],
    ['a fractional id', '[{"image_id":1.5,"category_id":1,"bbox":[0,0,1,1],"score":0.5}]'],
    ['a leading zero', '[{"image_id":01,"category_id":1,"bbox":[0,0,1,1],"score":0.5}]'],
    ['a truncated file', '[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":0.5}'],
    ['an escaped key', '[{"image\\u005fid":1,"category_id":1,"bbox":[0,0,1,1],"score":0.5}]'],
    ['an object at the top', '{"annotations": []}'],
    ['a duplicate key', '[{"image_id":1,"image_id":2,"category_id":1,"bbox":[0,0,1,1],"score":0.5}]'],
  ])('leaves %s to the general path', (_name, text) => {
    expect(parseCocoResultsFast(enc(text))).toBeNull();
  });
});
