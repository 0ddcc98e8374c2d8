/**
 * Parity with pycocotools on test/fixtures/eval/coco_public (reference numbers computed by
 * pycocotools' COCOeval, see the fixture README). Tolerance: 1e-6 on every number (we get ~1e-15;
 * the only difference is summation order in the means).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCocoDataset, loadCocoResults } from '../../data/coco/load.js';
import { COCO_STAT_NAMES, evaluateCoco, formatCocoSummary } from '../../detection/eval/coco.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const dir = join(repoRoot, 'test', 'fixtures', 'eval', 'coco_public');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const TOL = 1e-6;

describe('COCO bbox parity with pycocotools (coco_public)', async () => {
  const gt = await loadCocoDataset(join(dir, 'gt.json'));
  const dt = await loadCocoResults(join(dir, 'dt.json'), gt);
  const s = evaluateCoco(gt, dt);

  it.each(COCO_STAT_NAMES)('%s within 1e-6', (name) => {
    expect(Math.abs(s[name] - expected[name])).toBeLessThan(TOL);
  });

  it('per-category AP and AP50 within 1e-6, -1 for the category without GT', () => {
    for (const [cat, ap] of Object.entries(expected.per_category_ap as Record<string, number>)) {
      expect(Math.abs(s.per_category[cat] - ap)).toBeLessThan(TOL);
      expect(Math.abs(s.per_category_ap50[cat] - expected.per_category_ap50[cat])).toBeLessThan(TOL);
    }
    expect(s.per_category['44']).toBe(-1);
    expect(Object.keys(s.per_category).sort()).toEqual(Object.keys(expected.per_category_ap).sort());
  });

  it("prints pycocotools' 12-line summary character for character", () => {
    expect(formatCocoSummary(s)).toBe((expected.summary_text as string[]).join('\n'));
  });

  it('gives the same numbers from plain JSON objects (the server path)', () => {
    const gtJson = JSON.parse(readFileSync(join(dir, 'gt.json'), 'utf8'));
    const dtJson = JSON.parse(readFileSync(join(dir, 'dt.json'), 'utf8'));
    const s2 = evaluateCoco(gtJson, dtJson);
    expect(s2.stats).toEqual(s.stats);
    expect(s2.per_category).toEqual(s.per_category);
  });

  it('`resdet eval coco --json` prints the 12 numbers and per_category', async () => {
    const r = await runCli([
      'eval',
      'coco',
      '--gt',
      join(dir, 'gt.json'),
      '--dt',
      join(dir, 'dt.json'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual([...COCO_STAT_NAMES, 'per_category']);
    for (const name of COCO_STAT_NAMES) expect(Math.abs(out[name] - expected[name])).toBeLessThan(TOL);
    for (const [cat, ap] of Object.entries(expected.per_category_ap as Record<string, number>))
      expect(Math.abs(out.per_category[cat] - ap)).toBeLessThan(TOL);
  });

  it('`resdet eval coco` without --json prints the summary lines', async () => {
    const r = await runCli(['eval', 'coco', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'dt.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith((expected.summary_text as string[]).join('\n'))).toBe(true);
  });
});
