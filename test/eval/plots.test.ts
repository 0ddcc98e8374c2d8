/** PR plots: what goes into each chart, and that the CLI writes a PNG. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { evaluateCoco } from '../../detection/eval/coco.js';
import { cocoPlotSpec, vocPlotSpec } from '../../detection/eval/plots.js';
import { evaluateVoc } from '../../detection/eval/voc.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'eval');

describe('PR plots', () => {
  it('COCO: an overview panel and one per category with GT, a curve per area range present', () => {
    const gt = JSON.parse(readFileSync(join(fixtures, 'coco_public', 'gt.json'), 'utf8'));
    const dt = JSON.parse(readFileSync(join(fixtures, 'coco_public', 'dt.json'), 'utf8'));
    const s = evaluateCoco(gt, dt);
    const spec = cocoPlotSpec(s, 't');
    // 5 categories, one (44) without GT: overview + 4 panels.
    expect(spec.charts.map((c) => c.title)).toEqual([
      'all categories',
      ...['1', '3', '7', '18'].map((id) => {
        const k = s.catIds.indexOf(Number(id));
        return `${s.catNames[k]} (AP ${s.per_category[id].toFixed(3)})`;
      }),
    ]);
    const overview = spec.charts[0].series;
    expect(overview[0].points.length).toBe(101);
    expect(overview.map((x) => x.name.split(' (')[0])).toEqual([
      'IoU .50:.95',
      'IoU .50',
      'IoU .75',
      'small',
      'medium',
      'large',
    ]);
  });

  it('VOC: one chart up to 10 classes, a grid beyond', () => {
    const images = [
      { id: 'a', objects: Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, bbox: [1, 1, 10, 10] })) },
    ];
    const dets = Array.from({ length: 12 }, (_, i) => ({
      image_id: 'a',
      class: `c${i}`,
      score: 0.5,
      bbox: [1, 1, 10, 10],
    }));
    const many = vocPlotSpec(evaluateVoc(images, dets), 't');
    expect('charts' in many && many.charts.length).toBe(12);
    const few = vocPlotSpec(evaluateVoc(images, dets, { classes: ['c0', 'c1'] }), 't');
    expect('series' in few && few.series.map((x) => x.name)).toEqual(['c0 (AP 1.000)', 'c1 (AP 1.000)']);
  });

  it('`--plot` writes a PNG next to the usual output', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'resdet-plot-')), 'pr.png');
    const voc = join(fixtures, 'voc_public');
    const r = await runCli([
      'eval',
      'voc',
      '--root',
      voc,
      '--dets',
      join(voc, 'results', 'comp4_det_test_{cls}.txt'),
      '--plot',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 720, 520]);
  });
});
