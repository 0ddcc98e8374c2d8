/**
 * The mask API against pycocotools.mask on test/fixtures/eval/segm_public/mask_api.json (53
 * cases computed with pycocotools, see the fixture README): strings, runs, areas and boxes equal
 * exactly, IoUs equal as doubles (ratios of integers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  area,
  type CocoRle,
  decode,
  encode,
  fromCompressed,
  frPyObjects,
  iou,
  merge,
  rleFromObject,
  toBbox,
} from '../../data/coco/mask.js';
import { repoRoot } from '../helpers/cli.js';

interface MaskCase {
  name: string;
  op: string;
  input: Record<string, unknown>;
  output: unknown;
  output_counts?: number[] | number[][];
  output_area?: number | number[];
  output_merged?: CocoRle;
}

const file = join(repoRoot, 'test', 'fixtures', 'eval', 'segm_public', 'mask_api.json');
const cases = (JSON.parse(readFileSync(file, 'utf8')) as { cases: MaskCase[] }).cases;
const runs = (r: CocoRle) => Array.from(fromCompressed(r).counts);

function run(c: MaskCase): void {
  const inp = c.input;
  switch (c.op) {
    case 'frPyObjects': {
      const obj = inp.polygons ?? inp.bboxes ?? inp.rle;
      const out = frPyObjects(obj, inp.h as number, inp.w as number);
      expect(out).toEqual(c.output);
      const list = Array.isArray(out) ? out : [out];
      if (c.output_counts) {
        const want = Array.isArray(out) ? c.output_counts : [c.output_counts];
        expect(list.map(runs)).toEqual(want);
      }
      if (c.output_area !== undefined) {
        const a = area(list);
        expect(Array.isArray(out) ? a : a[0]).toEqual(c.output_area);
      }
      if (c.output_merged) expect(merge(list as CocoRle[])).toEqual(c.output_merged);
      return;
    }
    case 'encode': {
      const out = encode(inp.mask_fortran as number[], inp.h as number, inp.w as number);
      expect(out).toEqual(c.output);
      if (c.output_counts) expect(runs(out)).toEqual(c.output_counts);
      return;
    }
    case 'decode':
      expect(Array.from(decode(inp.rle as CocoRle))).toEqual(c.output);
      return;
    case 'merge': {
      const out = merge(inp.rles as CocoRle[], Boolean(inp.intersect));
      expect(out).toEqual(c.output);
      if (c.output_counts) expect(runs(out)).toEqual(c.output_counts);
      if (c.output_area !== undefined) expect(area([out])[0]).toEqual(c.output_area);
      return;
    }
    case 'area':
      expect(area(inp.rles as CocoRle[])).toEqual(c.output);
      return;
    case 'toBbox':
      expect(toBbox(inp.rles as CocoRle[])).toEqual(c.output);
      if (c.output_area !== undefined) expect(area(inp.rles as CocoRle[])).toEqual(c.output_area);
      return;
    case 'iou':
      expect(iou(inp.dt as CocoRle[], inp.gt as CocoRle[], inp.iscrowd as number[])).toEqual(c.output);
      return;
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

describe('mask API equals pycocotools.mask (mask_api.json)', () => {
  it('has all 53 cases', () => {
    expect(cases.length).toBe(53);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => run(c));
});

describe('mask API input checks', () => {
  it('an uncompressed RLE whose runs do not sum to h*w names the problem', () => {
    expect(() => rleFromObject({ size: [3, 4], counts: [2, 3] }, 'gt.json: annotations[5]')).toThrow(
      /gt.json: annotations\[5\]: RLE counts sum to 5, but size \[3, 4\] has h\*w = 12/,
    );
  });
  it('a compressed string with a character outside 0..o is refused', () => {
    expect(() => rleFromObject({ size: [2, 2], counts: '0~' }, 'dt.json: [3]')).toThrow(/dt.json: \[3\]/);
  });
});

interface GeneratedCase {
  name: string;
  op: 'frPyObjects' | 'merge_iou';
  input: Record<string, unknown>;
  output?: CocoRle[];
  output_merged?: CocoRle;
  output_area?: number[];
  output_bbox?: number[][];
  output_union?: CocoRle;
  output_intersect?: CocoRle;
  output_iou?: number[][];
}

// 110 random cases from test/fixtures/eval/generated/make_sets.py (pycocotools built from source):
// polygons with fractional, negative and out-of-image vertices, boxes, 4-way merges, crowd IoUs.
const generated = (
  JSON.parse(
    readFileSync(join(repoRoot, 'test', 'fixtures', 'eval', 'generated', 'mask_cases.json'), 'utf8'),
  ) as { cases: GeneratedCase[] }
).cases;

describe('mask API equals pycocotools.mask on generated random cases', () => {
  it.each(generated.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const inp = c.input;
    if (c.op === 'frPyObjects') {
      const out = frPyObjects(inp.polygons ?? inp.bboxes, inp.h as number, inp.w as number) as CocoRle[];
      expect(out).toEqual(c.output);
      if (c.output_merged) expect(merge(out)).toEqual(c.output_merged);
      if (c.output_area) expect(area(out)).toEqual(c.output_area);
      if (c.output_bbox) expect(toBbox(out)).toEqual(c.output_bbox);
      return;
    }
    const rles = inp.rles as CocoRle[];
    expect(merge(rles)).toEqual(c.output_union);
    expect(merge(rles, true)).toEqual(c.output_intersect);
    expect(iou(rles.slice(0, 2), rles.slice(2), inp.iscrowd as number[])).toEqual(c.output_iou);
    expect(toBbox(rles)).toEqual(c.output_bbox);
  });
});
