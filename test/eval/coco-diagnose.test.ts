/**
 * Diagnostics: TIDE's error kinds on a scene built to hold one of each, the confusion matrix and
 * P/R/F1 on it counted by hand, TIDE's base AP50 equal to COCOeval's on the reference sets, and
 * `resdet eval coco --diagnose --json --plot DIR`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCocoDataset, loadCocoResultArrays } from '../../data/coco/load.js';
import { diagnoseCoco } from '../../detection/eval/coco-diagnose.js';
import { formatDiagnosis } from '../../detection/eval/coco-diagnose-report.js';
import type { CocoIouType } from '../../detection/eval/coco-params.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const box = (id: number, cat: number, bbox: number[]) => ({
  id,
  image_id: 1,
  category_id: cat,
  bbox,
  area: bbox[2] * bbox[3],
  iscrowd: 0,
});
// A: category 1, B: category 2. A1 is found; B1 and A3 are missed; A2 is found only loosely.
const gt = {
  images: [{ id: 1, width: 300, height: 300 }],
  categories: [
    { id: 1, name: 'A' },
    { id: 2, name: 'B' },
  ],
  annotations: [
    box(1, 1, [0, 0, 10, 10]),
    box(2, 2, [20, 0, 10, 10]),
    box(3, 1, [40, 0, 10, 10]),
    box(4, 1, [60, 0, 10, 10]),
  ],
};
const det = (cat: number, bbox: number[], score: number) => ({ image_id: 1, category_id: cat, bbox, score });
const dets = [
  det(1, [200, 200, 10, 10], 0.95), // background: no GT within IoU 0.1
  det(1, [0, 0, 10, 10], 0.9), // true positive on A1
  det(1, [0, 0, 10, 10], 0.8), // duplicate of A1
  det(2, [0, 0, 10, 10], 0.7), // classification: A1 at IoU 1
  det(1, [64, 0, 10, 10], 0.6), // localisation: A2 at IoU 0.43
  det(2, [64, 0, 10, 10], 0.5), // both: A2 (another category) at IoU 0.43
];

describe('diagnoseCoco on a scene with one error of each kind', () => {
  const { summary, diagnosis: d } = diagnoseCoco(gt, dets, { scoreThreshold: 0.5 });

  it('assigns each false positive its TIDE error and counts missed GT', () => {
    const counts = Object.fromEntries(Object.entries(d.tide.errors).map(([k, v]) => [k, v.count]));
    expect(counts).toEqual({
      classification: 1,
      localisation: 1,
      both: 1,
      duplicate: 1,
      background: 1,
      missed: 2,
    });
  });

  it('fixing the top-scoring background error or the missed GT raises AP50', () => {
    expect(d.tide.ap50).toBeCloseTo(summary.AP50, 12);
    expect(d.tide.errors.background.dAP).toBeGreaterThan(0);
    expect(d.tide.errors.missed.dAP).toBeGreaterThan(0);
    expect(d.tide.errors.localisation.dAP).toBeGreaterThan(0);
  });

  it('counts the confusion matrix with a background row and column', () => {
    expect(d.confusion.labels).toEqual(['A', 'B', 'background']);
    expect(d.confusion.matrix).toEqual([
      [1, 0, 2],
      [0, 0, 1],
      [3, 2, 0],
    ]);
  });

  it('P/R/F1 at the score threshold', () => {
    const a = d.perCategory[0];
    expect([a.tp, a.fp, a.fn, a.gt, a.detections]).toEqual([1, 3, 2, 3, 4]);
    expect(a.precision).toBeCloseTo(0.25, 12);
    expect(a.recall).toBeCloseTo(1 / 3, 12);
    expect(a.f1).toBeCloseTo((2 * 0.25 * (1 / 3)) / (0.25 + 1 / 3), 12);
    expect(formatDiagnosis(d)).toMatch(/localisation\s+1/);
  });
});

describe.each([
  ['coco_public', 'bbox'],
  ['segm_public', 'segm'],
  ['kp_public', 'keypoints'],
] as [string, CocoIouType][])('TIDE base AP50 equals COCOeval on %s', (dir, iouType) => {
  it('and every error count is a count of real records', async () => {
    const base = join(repoRoot, 'test', 'fixtures', 'eval', dir);
    const expected = JSON.parse(readFileSync(join(base, 'expected.json'), 'utf8'));
    const g = await loadCocoDataset(join(base, 'gt.json'), { keepSegmentation: iouType === 'segm' });
    const dt = await loadCocoResultArrays(join(base, 'dt.json'), g, { iouType });
    const { diagnosis } = diagnoseCoco(g, dt, { iouType });
    expect(Math.abs(diagnosis.tide.ap50 - expected.AP50)).toBeLessThan(1e-9);
    const fpErrors = ['classification', 'localisation', 'both', 'duplicate', 'background'] as const;
    const fps = fpErrors.reduce((n, e) => n + diagnosis.tide.errors[e].count, 0);
    expect(fps).toBeGreaterThan(0);
    expect(fps).toBeLessThanOrEqual(dt.n);
  });
});

describe('resdet eval coco --diagnose', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resdet-diag-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const dir = join(repoRoot, 'test', 'fixtures', 'eval', 'segm_public');

  it('--json adds "diagnostics" to the summary; --plot writes the three PNGs', async () => {
    const r = await runCli([
      'eval',
      'coco',
      '--gt',
      join(dir, 'gt.json'),
      '--dt',
      join(dir, 'dt.json'),
      '--iou-type',
      'segm',
      '--diagnose',
      '--score-threshold',
      '0.3',
      '--json',
      '--plot',
      join(tmp, 'plots'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.AP).toBeGreaterThan(0);
    expect(out.diagnostics.scoreThreshold).toBe(0.3);
    expect(out.diagnostics.confusion.labels.at(-1)).toBe('background');
    expect(Object.keys(out.diagnostics.tide.errors)).toEqual([
      'classification',
      'localisation',
      'both',
      'duplicate',
      'background',
      'missed',
    ]);
    for (const f of ['confusion.png', 'errors.png', 'pr-curves.png']) {
      const path = join(tmp, 'plots', f);
      expect(existsSync(path), f).toBe(true);
      expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('prints the tables', async () => {
    const r = await runCli([
      'eval',
      'coco',
      '--gt',
      join(dir, 'gt.json'),
      '--dt',
      join(dir, 'dt.json'),
      '--iou-type',
      'segm',
      '--diagnose',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/per category/);
    expect(r.stdout).toMatch(/confusion matrix/);
    expect(r.stdout).toMatch(/TIDE error breakdown/);
  });
});
