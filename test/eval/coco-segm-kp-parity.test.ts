/**
 * segm and keypoints COCOeval parity with pycocotools: the public sets (segm_public, kp_public)
 * and our generated ones (test/fixtures/eval/generated/make_sets.py, run against pycocotools
 * built from cocodataset/cocoapi: random masks with crowd RLE and compressed-RLE GT, a set whose
 * results carry a bbox (area = w*h), keypoints with num_keypoints 0 and crowd persons). Every
 * summary number, per-category AP/AP50/AP75 and per-category summary within 1e-6, through the
 * library and through `resdet eval coco --iou-type ... --json`; the printed summary character
 * for character.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCocoDataset, loadCocoResultArrays } from '../../data/coco/load.js';
import { area, type CocoRle, fromCompressed } from '../../data/coco/mask.js';
import { parseCocoResultsFast } from '../../data/coco/results-fast.js';
import { evaluateCoco, formatCocoSummary } from '../../detection/eval/coco.js';
import type { CocoIouType } from '../../detection/eval/coco-params.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const TOL = 1e-6;
const base = join(repoRoot, 'test', 'fixtures', 'eval');
const SETS: [string, CocoIouType][] = [
  ['segm_public', 'segm'],
  ['kp_public', 'keypoints'],
  ['generated/segm_1701', 'segm'],
  ['generated/segm_1702', 'segm'],
  ['generated/segm_1703', 'segm'],
  ['generated/kp_2701', 'keypoints'],
  ['generated/kp_2702', 'keypoints'],
];
const KP_NAMES = ['AP', 'AP50', 'AP75', 'APm', 'APl', 'AR', 'AR50', 'AR75', 'ARm', 'ARl'];
const BBOX_NAMES = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'];

describe.each(SETS)('%s (%s) equals pycocotools', async (dir, iouType) => {
  const gtPath = join(base, dir, 'gt.json');
  const dtPath = join(base, dir, 'dt.json');
  const expected = JSON.parse(readFileSync(join(base, dir, 'expected.json'), 'utf8'));
  const names = iouType === 'keypoints' ? KP_NAMES : BBOX_NAMES;
  const gt = await loadCocoDataset(gtPath, { keepSegmentation: iouType === 'segm' });
  const s = evaluateCoco(gt, await loadCocoResultArrays(dtPath, gt, { iouType }), { iouType });

  it('the summary numbers within 1e-6', () => {
    expect(s.statNames).toEqual(names);
    for (const n of names)
      expect(Math.abs(s.stats[s.statNames.indexOf(n)] - expected[n]), n).toBeLessThan(TOL);
  });

  it('per-category AP, AP50, AP75 and per-category summaries within 1e-6', () => {
    for (const [field, ours] of [
      ['per_category_ap', s.per_category],
      ['per_category_ap50', s.per_category_ap50],
      ['per_category_ap75', s.per_category_ap75],
    ] as const) {
      const want = expected[field] as Record<string, number>;
      expect(Object.keys(ours).sort()).toEqual(Object.keys(want).sort());
      for (const [cat, v] of Object.entries(want))
        expect(Math.abs(ours[cat] - v), `${field} ${cat}`).toBeLessThan(TOL);
    }
    for (const [cat, stats] of Object.entries(
      expected.per_category_stats as Record<string, Record<string, number>>,
    ))
      for (const [n, v] of Object.entries(stats))
        expect(Math.abs(s.per_category_stats[cat][n] - v), `${cat} ${n}`).toBeLessThan(TOL);
  });

  it("prints pycocotools' summary character for character", () => {
    expect(formatCocoSummary(s)).toBe((expected.summary_text as string[]).join('\n'));
  });

  it('`resdet eval coco --iou-type` --json gives the same numbers', async () => {
    const r = await runCli(['eval', 'coco', '--gt', gtPath, '--dt', dtPath, '--iou-type', iouType, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual([...names, 'per_category']);
    for (const n of names) expect(Math.abs(out[n] - expected[n]), n).toBeLessThan(TOL);
    for (const [cat, v] of Object.entries(expected.per_category_ap as Record<string, number>))
      expect(Math.abs(out.per_category[cat] - v)).toBeLessThan(TOL);
  });
});

describe('plain JSON objects give the same numbers (the server path)', () => {
  it.each(SETS.slice(0, 2))('%s', (dir, iouType) => {
    const gt = JSON.parse(readFileSync(join(base, dir, 'gt.json'), 'utf8'));
    const dt = JSON.parse(readFileSync(join(base, dir, 'dt.json'), 'utf8'));
    const expected = JSON.parse(readFileSync(join(base, dir, 'expected.json'), 'utf8'));
    const s = evaluateCoco(gt, dt, { iouType });
    expect(Math.abs(s.AP - expected.AP)).toBeLessThan(TOL);
    expect(Math.abs(s.AP50 - expected.AP50)).toBeLessThan(TOL);
  });
});

describe('the byte-level results reader decodes masks as the general path does', () => {
  it('a file cut anywhere (inside a counts string too) is left to the general path', () => {
    const bytes = readFileSync(join(base, 'segm_public', 'dt.json'));
    for (const cut of [1, 60, 61, 100, 157, 1000, bytes.length - 2])
      expect(parseCocoResultsFast(bytes.subarray(0, cut), { masks: true })).toBeNull();
  });

  it.each(['segm_public', 'generated/segm_1703'])('%s', (dir) => {
    const bytes = readFileSync(join(base, dir, 'dt.json'));
    const fast = parseCocoResultsFast(bytes, { masks: true });
    expect(fast).not.toBeNull();
    const records = JSON.parse(bytes.toString('utf8')) as { segmentation: CocoRle; bbox?: number[] }[];
    expect(fast?.n).toBe(records.length);
    records.forEach((r, i) => {
      expect(Array.from(fast?.masks?.[i].counts ?? [])).toEqual(
        Array.from(fromCompressed(r.segmentation).counts),
      );
      const want = r.bbox ? r.bbox[2] * r.bbox[3] : area([r.segmentation])[0];
      expect(fast?.area?.[i]).toBe(want);
    });
  });
});
