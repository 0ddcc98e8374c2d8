/** Precision/recall plots of evaluation results (PNG through core/plot). */
import {
  type ChartGridSpec,
  type ChartSeries,
  type LineChartSpec,
  writeChartGridPng,
  writeChartPng,
} from '../../core/plot.js';
import type { CocoEvalResult } from './coco.js';
import type { VocSummary } from './voc.js';

const UNIT: readonly [number, number] = [0, 1];

function prChart(title: string, series: ChartSeries[]): LineChartSpec {
  return {
    title,
    xLabel: 'recall',
    yLabel: 'precision',
    series,
    xRange: UNIT,
    yRange: UNIT,
    legend: 'bottom-left',
  };
}

/** Curve of one VOC class: the raw precision after each detection, started at recall 0. */
function vocCurve(s: VocSummary, cls: string): [number, number][] {
  const d = s.details[cls];
  const pts: [number, number][] = [];
  if (d.recall.length > 0) pts.push([0, d.precision[0]]);
  for (let i = 0; i < d.recall.length; i++) pts.push([d.recall[i], d.precision[i]]);
  return pts;
}

/** VOC: one chart with a curve per class up to 10 classes, else a panel per class. */
export function vocPlotSpec(s: VocSummary, title: string): LineChartSpec | ChartGridSpec {
  const classes = s.classes.filter((c) => s.details[c].npos > 0);
  const label = (c: string) => `${c} (AP ${s.per_class[c].toFixed(3)})`;
  if (classes.length <= 10) {
    return {
      ...prChart(
        title,
        classes.map((c) => ({ name: label(c), points: vocCurve(s, c) })),
      ),
      width: 720,
      height: 520,
    };
  }
  return {
    title,
    charts: classes.map((c) => ({
      ...prChart(label(c), [{ name: c, points: vocCurve(s, c) }]),
      legend: 'none' as const,
    })),
    panelWidth: 300,
    panelHeight: 230,
  };
}

/**
 * Precision at each recall threshold, averaged over IoU thresholds `ts` and categories `ks`
 * (entries of -1, i.e. no GT, left out); null when nothing is valid.
 */
function meanCurve(
  s: CocoEvalResult,
  ts: readonly number[],
  ks: readonly number[],
  a: number,
): [number, number][] | null {
  const { R, K, A, M } = s.shape;
  const m = M - 1;
  const pts: [number, number][] = [];
  for (let r = 0; r < R; r++) {
    let sum = 0;
    let n = 0;
    for (const t of ts) {
      for (const k of ks) {
        const v = s.precision[(((t * R + r) * K + k) * A + a) * M + m];
        if (v > -1) {
          sum += v;
          n++;
        }
      }
    }
    if (n === 0) return null;
    pts.push([s.params.recThrs[r], sum / n]);
  }
  return pts;
}

/** COCO: an overview panel (IoU .50:.95, .50, .75 and the area ranges), then a panel per category. */
export function cocoPlotSpec(s: CocoEvalResult, title: string): ChartGridSpec {
  const { T, K } = s.shape;
  const allT = Array.from({ length: T }, (_, t) => t);
  const allK = Array.from({ length: K }, (_, k) => k);
  const areas = s.params.areaRanges;
  const t50 = allT.filter((t) => s.params.iouThrs[t] === 0.5);
  const t75 = allT.filter((t) => s.params.iouThrs[t] === 0.75);
  const overview: ChartSeries[] = [];
  const push = (name: string, pts: [number, number][] | null, dashed = false) => {
    if (pts) overview.push({ name, points: pts, dashed });
  };
  push(`IoU .50:.95 (AP ${s.AP.toFixed(3)})`, meanCurve(s, allT, allK, 0));
  push(`IoU .50 (AP ${s.AP50.toFixed(3)})`, meanCurve(s, t50, allK, 0));
  push(`IoU .75 (AP ${s.AP75.toFixed(3)})`, meanCurve(s, t75, allK, 0));
  for (let a = 1; a < areas.length; a++) push(areas[a].label, meanCurve(s, allT, allK, a), true);
  const charts: LineChartSpec[] = [{ ...prChart('all categories', overview), legend: 'top-right' }];
  for (let k = 0; k < K; k++) {
    const series: ChartSeries[] = [];
    for (let a = 0; a < areas.length; a++) {
      const pts = meanCurve(s, allT, [k], a);
      if (pts) series.push({ name: areas[a].label, points: pts, dashed: a > 0 });
    }
    if (series.length === 0) continue;
    const ap = s.per_category[String(s.catIds[k])];
    charts.push(prChart(`${s.catNames[k]} (AP ${ap.toFixed(3)})`, series));
  }
  const many = charts.length > 12;
  return { title, charts, panelWidth: many ? 300 : 360, panelHeight: many ? 230 : 280 };
}

function isGrid(spec: LineChartSpec | ChartGridSpec): spec is ChartGridSpec {
  return 'charts' in spec;
}

export async function writeVocPlot(
  path: string,
  s: VocSummary,
  title = `VOC PR curves (${s.metric}, mAP ${s.mAP.toFixed(3)})`,
): Promise<void> {
  const spec = vocPlotSpec(s, title);
  if (isGrid(spec)) await writeChartGridPng(path, spec);
  else await writeChartPng(path, spec);
}

export async function writeCocoPlot(
  path: string,
  s: CocoEvalResult,
  title = `COCO ${s.iouType} PR curves (AP ${s.AP.toFixed(3)}; precision averaged over IoU .50:.95; dashed: area ranges)`,
): Promise<void> {
  await writeChartGridPng(path, cocoPlotSpec(s, title));
}
