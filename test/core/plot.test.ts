import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  linearTicks,
  logTicks,
  renderChartGrid,
  renderLineChart,
  writeChartGridPng,
  writeChartPng,
} from '../../core/plot.js';

const curve = (k: number): [number, number][] =>
  Array.from({ length: 20 }, (_, i) => [i, Math.exp(-i / k)] as [number, number]);

describe('ticks', () => {
  it('linear ticks use 1/2/5 steps and cover the range', () => {
    expect(linearTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0, 37, 6)).toEqual([0, 10, 20, 30]);
    expect(linearTicks(0, 37, 10)).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
    expect(linearTicks(-3, 3, 6)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });
  it('log ticks are decades, with 2x and 5x over narrow ranges', () => {
    expect(logTicks(0.001, 10)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(0.1, 1)).toEqual([0.1, 0.2, 0.5, 1]);
  });
});

describe('renderLineChart', () => {
  it('draws one polyline per series, the labels, and escapes text', () => {
    const svg = renderLineChart({
      title: 'loss <train> & val',
      xLabel: 'iteration',
      yLabel: 'loss',
      series: [
        { name: 'train', points: curve(5) },
        { name: 'val', points: curve(8), dashed: true },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBe(2);
    expect(svg).toContain('loss &#60;train&#62; &#38; val');
    expect(svg).toContain('>iteration<');
    expect(svg).toContain('stroke-dasharray');
  });
  it('drops non-positive points on a log axis and keeps the y range positive', () => {
    const svg = renderLineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
      series: [
        {
          name: 's',
          points: [
            [0, 0],
            [1, 0.1],
            [2, 0.01],
          ],
        },
      ],
    });
    const pts = svg.match(/points="([^"]+)"/)?.[1].split(' ') ?? [];
    expect(pts.length).toBe(2);
    expect(svg).not.toContain('NaN');
  });
  it('summarises long legends', () => {
    const series = Array.from({ length: 15 }, (_, i) => ({ name: `s${i}`, points: curve(i + 1) }));
    const svg = renderLineChart({ title: 't', xLabel: 'x', yLabel: 'y', series, maxLegend: 10 });
    expect(svg).toContain('+5 more');
  });
});

describe('PNG output', () => {
  it('writes readable PNGs of the requested size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resdet-plot-'));
    const a = join(dir, 'sub', 'a.png');
    await writeChartPng(a, {
      title: 'PR',
      xLabel: 'recall',
      yLabel: 'precision',
      series: [{ name: 'car', points: curve(4) }],
      width: 400,
      height: 300,
    });
    const meta = await sharp(readFileSync(a)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 400, 300]);
    const b = join(dir, 'b.png');
    const grid = {
      title: 'grid',
      charts: [1, 2, 3].map((k) => ({
        title: `c${k}`,
        xLabel: 'x',
        yLabel: 'y',
        series: [{ name: 'a', points: curve(k) }],
      })),
      columns: 2,
      panelWidth: 200,
      panelHeight: 150,
    };
    expect(renderChartGrid(grid).match(/<polyline/g)?.length).toBe(3);
    await writeChartGridPng(b, grid);
    const m2 = await sharp(readFileSync(b)).metadata();
    expect([m2.width, m2.height]).toEqual([400, 36 + 2 * 150]);
  });
});
