import { existsSync } from 'node:fs';
import {
  type ChartGridSpec,
  type ChartSeries,
  type LineChartSpec,
  smooth,
  writeChartGridPng,
} from '../../core/plot.js';
import { type MetricsRecord, readMetrics } from '../../core/train/metrics.js';

const LOSS_KEYS = ['total', 'rpnObjectness', 'rpnBox', 'classifier', 'box'] as const;
const LOSS_NAMES: Record<(typeof LOSS_KEYS)[number], string> = {
  total: 'total',
  rpnObjectness: 'RPN objectness',
  rpnBox: 'RPN box',
  classifier: 'Fast R-CNN classifier',
  box: 'Fast R-CNN box',
};
const EVAL_KEYS = ['voc07_mAP', 'coco_AP', 'coco_AP50'];

export interface DetectorRun {
  name: string;
  records: MetricsRecord[];
}

const series = (records: MetricsRecord[], type: string, key: string): [number, number][] =>
  records
    .filter((r) => r.type === type && typeof r.iteration === 'number' && typeof r[key] === 'number')
    .map((r) => [r.iteration as number, r[key] as number]);

/**
 * Detector training curves: the four losses and their sum (trailing mean; `smoothing` points, by
 * default about a twentieth of the run, at most 50), and mAP against iterations when the run
 * evaluated along the way. One run: every loss; several runs: the total loss of each.
 */
export function detectorCharts(
  runs: DetectorRun[],
  title: string,
  smoothing?: number,
): ChartGridSpec | undefined {
  const longest = Math.max(0, ...runs.map((r) => series(r.records, 'train', 'total').length));
  if (longest === 0) return undefined;
  const window = smoothing ?? Math.max(1, Math.min(50, Math.floor(longest / 20)));
  const lossSeries: ChartSeries[] =
    runs.length === 1
      ? LOSS_KEYS.map((k) => ({
          name: LOSS_NAMES[k],
          points: smooth(series(runs[0].records, 'train', k), window),
        }))
      : runs.map((r) => ({
          name: `${r.name} total`,
          points: smooth(series(r.records, 'train', 'total'), window),
        }));
  const charts: LineChartSpec[] = [
    {
      title: `training losses (moving average of ${window})`,
      xLabel: 'iteration',
      yLabel: 'loss',
      series: lossSeries,
      logY: true,
    },
  ];
  const evalSeries: ChartSeries[] = runs
    .flatMap((r) =>
      EVAL_KEYS.map((k) => ({
        name: runs.length === 1 ? k : `${r.name} ${k}`,
        points: series(r.records, 'eval', k),
      })),
    )
    .filter((s) => s.points.length > 0);
  if (evalSeries.length > 0) {
    charts.push({
      title: 'evaluation',
      xLabel: 'iteration',
      yLabel: 'mAP',
      yRange: [0, 1],
      legend: 'bottom-right',
      series: evalSeries,
    });
  }
  return { title, charts, columns: charts.length, panelWidth: 560, panelHeight: 380 };
}

/** Writes a run's training curves (detectorCharts) from its metrics.jsonl as a PNG. */
export async function writeTrainingPlot(
  metricsPath: string,
  pngPath: string,
  title: string,
): Promise<boolean> {
  if (!existsSync(metricsPath)) return false;
  const grid = detectorCharts([{ name: title, records: readMetrics(metricsPath) }], title);
  if (!grid) return false;
  await writeChartGridPng(pngPath, grid);
  return true;
}
