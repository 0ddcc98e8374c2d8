/**
 * Parity with py-faster-rcnn's voc_eval on test/fixtures/eval/voc_public (reference numbers in
 * expected.json). Tolerance: 1e-6 on every per-class AP and the mAP, both metrics.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateVoc, VOC_CLASSES, type VocMetric } from '../../detection/eval/voc.js';
import { readImageSet, readVocGroundTruth, readVocResultFiles } from '../../detection/eval/voc-io.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const dir = join(repoRoot, 'test', 'fixtures', 'eval', 'voc_public');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const pattern = join(dir, 'results', 'comp4_det_test_{cls}.txt');
const TOL = 1e-6;

describe('VOC parity with voc_eval (voc_public)', () => {
  const ids = readImageSet(join(dir, 'ImageSets', 'Main', 'test.txt'));
  const gt = readVocGroundTruth(join(dir, 'Annotations'), ids);
  const files = readVocResultFiles(pattern, VOC_CLASSES);

  it('finds the result files of the fixture classes', () => {
    expect(files.classes).toEqual(expected.classes);
  });

  it.each(['voc07', 'area'] as VocMetric[])('%s: per-class AP and mAP within 1e-6', (metric) => {
    const s = evaluateVoc(gt, files.detections, { metric, classes: files.classes });
    expect(Math.abs(s.mAP - expected[metric].mAP)).toBeLessThan(TOL);
    for (const cls of expected.classes as string[]) {
      expect(Math.abs(s.per_class[cls] - expected[metric].ap[cls])).toBeLessThan(TOL);
      expect(s.details[cls].npos).toBe(expected.counts.npos_non_difficult[cls]);
      expect(s.details[cls].detections).toBe(expected.counts.detections[cls]);
    }
  });

  it.each(['voc07', 'area'] as VocMetric[])('CLI --metric %s --json', async (metric) => {
    const r = await runCli([
      'eval',
      'voc',
      '--annotations',
      join(dir, 'Annotations'),
      '--imageset',
      join(dir, 'ImageSets', 'Main', 'test.txt'),
      '--dets',
      pattern,
      '--metric',
      metric,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['metric', 'mAP', 'per_class']);
    expect(out.metric).toBe(metric);
    expect(Math.abs(out.mAP - expected[metric].mAP)).toBeLessThan(TOL);
    for (const cls of expected.classes as string[])
      expect(Math.abs(out.per_class[cls] - expected[metric].ap[cls])).toBeLessThan(TOL);
  });

  it('CLI --root/--split and COCO-style JSON detections give the same mAP', async () => {
    // Devkit lines -> COCO-style records: x = xmin - 1, w = xmax - xmin + 1 (0-based, continuous).
    const json = files.detections.map((d) => ({
      image_id: d.image_id,
      category_id: d.class,
      bbox: [d.bbox[0] - 1, d.bbox[1] - 1, d.bbox[2] - d.bbox[0] + 1, d.bbox[3] - d.bbox[1] + 1],
      score: d.score,
    }));
    const tmp = mkdtempSync(join(tmpdir(), 'resdet-voc-'));
    writeFileSync(join(tmp, 'dets.json'), JSON.stringify(json));
    const r = await runCli([
      'eval',
      'voc',
      '--root',
      dir,
      '--split',
      'test',
      '--dets',
      join(tmp, 'dets.json'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Math.abs(out.mAP - expected.voc07.mAP)).toBeLessThan(TOL);
  });

  it('prints per-class AP and mAP as a table', async () => {
    const r = await runCli(['eval', 'voc', '--root', dir, '--dets', pattern]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/car\s+0\.7445/);
    expect(r.stdout).toMatch(/mAP\s+0\.6084/);
  });
});
