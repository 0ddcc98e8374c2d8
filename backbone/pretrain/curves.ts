import { basename, dirname } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import { type ChartSeries, type LineChartSpec, smooth } from '../../core/plot.js';
import { metricsPath, readMetrics } from '../../core/train/metrics.js';

/** The error curves of one run, from its metrics.jsonl. Points are [iteration, error in %]. */
export interface RunCurves {
  name: string;
  train: [number, number][];
  val: [number, number][];
  test: [number, number][];
  /** Iterations per epoch, when the file shows it (for an epoch axis). */
  itersPerEpoch?: number;
}

export function readRunCurves(given: string, name?: string): RunCurves {
  const path = metricsPath(given);
  const curves: RunCurves = { name: name ?? basename(dirname(path)), train: [], val: [], test: [] };
  for (const r of readMetrics(path)) {
    if (typeof r.iteration !== 'number') continue;
    if (r.type === 'train' && typeof r.error === 'number') {
      curves.train.push([r.iteration, 100 * r.error]);
      if (!curves.itersPerEpoch && typeof r.epoch === 'number' && r.epoch > 0) {
        curves.itersPerEpoch = r.iteration / r.epoch;
      }
    } else if (r.type === 'eval' && typeof r.top1Error === 'number') {
      const target = r.split === 'val' ? curves.val : r.split === 'test' ? curves.test : undefined;
      target?.push([r.iteration, 100 * r.top1Error]);
    }
  }
  if (curves.train.length === 0 && curves.test.length === 0 && curves.val.length === 0) {
    throw new ResdetError(`${path}: no training or evaluation records`);
  }
  return curves;
}

/**
 * Paper-style curves (Fig. 4 and 6): training error dashed, held-out error solid, one colour per
 * run; x in iterations, or epochs with `epochs`.
 */
export function curvesChart(
  runs: RunCurves[],
  opts: { title?: string; epochs?: boolean; smooth?: number; yMax?: number } = {},
): LineChartSpec {
  const series: ChartSeries[] = [];
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  runs.forEach((run, i) => {
    const color = palette[i % palette.length];
    const x = (p: [number, number]): [number, number] =>
      opts.epochs && run.itersPerEpoch ? [p[0] / run.itersPerEpoch, p[1]] : p;
    if (run.train.length) {
      series.push({
        name: `${run.name} train`,
        points: smooth(run.train, opts.smooth ?? 1).map(x),
        color,
        dashed: true,
      });
    }
    const held = run.test.length ? run.test : run.val;
    if (held.length) {
      series.push({ name: `${run.name} ${run.test.length ? 'test' : 'val'}`, points: held.map(x), color });
    }
  });
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const top = opts.yMax ?? Math.min(100, Math.max(5, Math.ceil(Math.max(...ys) / 5) * 5));
  return {
    title: opts.title ?? 'training (dashed) and test (solid) error',
    xLabel: opts.epochs ? 'epoch' : 'iteration',
    yLabel: 'error (%)',
    series,
    yRange: [0, top],
  };
}
