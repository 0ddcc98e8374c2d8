import { existsSync, readFileSync } from 'node:fs';
import { type ChartSeries, type LineChartSpec, writeChartGridPng } from '../../core/plot.js';

const LOSS_KEYS = ['total', 'rpnObjectness', 'rpnBox', 'classifier', 'box'] as const;
const LOSS_NAMES: Record<(typeof LOSS_KEYS)[number], string> = {
  total: 'total',
  rpnObjectness: 'RPN objectness',
  rpnBox: 'RPN box',
  classifier: 'Fast R-CNN classifier',
  box: 'Fast R-CNN box',
};

interface MetricsRecord {
  type?: string;
  iteration?: number;
  [key: string]: unknown;
}

export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // A line cut short by a kill: skip it.
    }
  }
  return out;
}

/** Trailing moving average over `window` points: per-iteration losses are too noisy to read. */
function smooth(points: [number, number][], window: number): [number, number][] {
  const out: [number, number][] = [];
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i][1];
    if (i >= window) sum -= points[i - window][1];
    out.push([points[i][0], sum / Math.min(i + 1, window)]);
  }
  return out;
}

/**
 * Writes the training curves from metrics.jsonl as a PNG: the four losses and their sum
 * (moving average), and, when the run evaluated along the way, mAP against iterations.
 */
export async function writeTrainingPlot(
  metricsPath: string,
  pngPath: string,
  title: string,
): Promise<boolean> {
  const records = readMetrics(metricsPath);
  const train = records.filter((r) => r.type === 'train' && typeof r.iteration === 'number');
  if (train.length === 0) return false;
  const window = Math.max(1, Math.min(50, Math.floor(train.length / 20)));
  const series: ChartSeries[] = LOSS_KEYS.map((k) => ({
    name: LOSS_NAMES[k],
    points: smooth(
      train.filter((r) => typeof r[k] === 'number').map((r) => [r.iteration as number, r[k] as number]),
      window,
    ),
  }));
  const charts: LineChartSpec[] = [
    {
      title: `training losses (moving average of ${window})`,
      xLabel: 'iteration',
      yLabel: 'loss',
      series,
      logY: true,
    },
  ];
  const evals = records.filter((r) => r.type === 'eval' && typeof r.iteration === 'number');
  const metricKeys = ['voc07_mAP', 'coco_AP', 'coco_AP50'].filter((k) =>
    evals.some((r) => typeof r[k] === 'number'),
  );
  if (metricKeys.length > 0) {
    charts.push({
      title: 'evaluation',
      xLabel: 'iteration',
      yLabel: 'mAP',
      yRange: [0, 1],
      legend: 'bottom-right',
      series: metricKeys.map((k) => ({
        name: k,
        points: evals
          .filter((r) => typeof r[k] === 'number')
          .map((r) => [r.iteration as number, r[k] as number]),
      })),
    });
  }
  await writeChartGridPng(pngPath, {
    title,
    charts,
    columns: charts.length,
    panelWidth: 560,
    panelHeight: 380,
  });
  return true;
}
