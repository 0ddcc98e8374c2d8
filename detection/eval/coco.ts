/**
 * COCO bbox evaluation with pycocotools' COCOeval semantics (evaluate, accumulate, summarize):
 * the 12 summary numbers, per-category AP, and the precision array for PR plots.
 */
import { ResdetError } from '../../core/errors.js';
import { CocoDataset } from '../../data/coco/dataset.js';
import { type CocoResultArrays, isCocoResultArrays, resultsToArrays } from '../../data/coco/results-fast.js';
import type { CocoResult } from '../../data/coco/types.js';
import { accumulateCoco } from './coco-accumulate.js';
import { matchCoco } from './coco-match.js';
import { type CocoEvalParams, defaultCocoParams } from './coco-params.js';

export const COCO_STAT_NAMES = [
  'AP',
  'AP50',
  'AP75',
  'APs',
  'APm',
  'APl',
  'AR1',
  'AR10',
  'AR100',
  'ARs',
  'ARm',
  'ARl',
] as const;
export type CocoStatName = (typeof COCO_STAT_NAMES)[number];
export type CocoStats = Record<CocoStatName, number>;

export interface CocoSummary extends CocoStats {
  /** AP@[.50:.95] per category id (area all, 100 detections); -1 for a category without GT. */
  per_category: Record<string, number>;
  /** AP@.50 per category id; -1 for a category without GT. */
  per_category_ap50: Record<string, number>;
  /** The 12 numbers in pycocotools' order. */
  stats: number[];
  params: CocoEvalParams;
  /** Evaluated category ids (ascending) and their names. */
  catIds: number[];
  catNames: string[];
  /** precision[(((t * R + r) * K + k) * A + a) * M + m], as COCOeval.eval['precision']. */
  precision: Float64Array;
  /** recall[((t * K + k) * A + a) * M + m], as COCOeval.eval['recall']. */
  recall: Float64Array;
  shape: { T: number; R: number; K: number; A: number; M: number };
  counts: { images: number; categories: number; annotations: number; detections: number };
}

export interface CocoEvalOptions {
  /** Names the GT and detections in error messages (file paths, "request body"). */
  gtSource?: string;
  dtSource?: string;
  /** Evaluate only these images / categories (default: all of the GT's). */
  imgIds?: readonly number[];
  catIds?: readonly number[];
  params?: Partial<CocoEvalParams>;
}

/** Mean of the entries > -1 selected by `pick`, or -1 when there are none (as _summarize). */
function meanValid(values: Float64Array, indices: Iterable<number>): number {
  let sum = 0;
  let n = 0;
  for (const i of indices) {
    const v = values[i];
    if (v > -1) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? -1 : sum / n;
}

function* precisionIndices(
  shape: CocoSummary['shape'],
  ts: readonly number[],
  ks: readonly number[],
  a: number,
  m: number,
): Generator<number> {
  const { R, K, A, M } = shape;
  for (const t of ts)
    for (let r = 0; r < R; r++) for (const k of ks) yield (((t * R + r) * K + k) * A + a) * M + m;
}

function* recallIndices(
  shape: CocoSummary['shape'],
  ks: readonly number[],
  a: number,
  m: number,
): Generator<number> {
  const { T, K, A, M } = shape;
  for (let t = 0; t < T; t++) for (const k of ks) yield ((t * K + k) * A + a) * M + m;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** COCOeval.summarize's 12 numbers from accumulated arrays. */
function summarize(
  precision: Float64Array,
  recall: Float64Array,
  shape: CocoSummary['shape'],
  p: CocoEvalParams,
): number[] {
  const ks = range(shape.K);
  const allT = range(shape.T);
  const areaIdx = (label: string) => p.areaRanges.findIndex((r) => r.label === label);
  const detIdx = (n: number | undefined) => (n === undefined ? -1 : p.maxDets.indexOf(n));
  const ap = (iouThr: number | undefined, area: string, maxDets: number | undefined): number => {
    const a = areaIdx(area);
    const m = detIdx(maxDets);
    if (a < 0 || m < 0) return -1;
    const ts = iouThr === undefined ? allT : allT.filter((t) => p.iouThrs[t] === iouThr);
    return meanValid(precision, precisionIndices(shape, ts, ks, a, m));
  };
  const ar = (area: string, maxDets: number | undefined): number => {
    const a = areaIdx(area);
    const m = detIdx(maxDets);
    if (a < 0 || m < 0) return -1;
    return meanValid(recall, recallIndices(shape, ks, a, m));
  };
  const md = p.maxDets;
  return [
    ap(undefined, 'all', 100),
    ap(0.5, 'all', md[2]),
    ap(0.75, 'all', md[2]),
    ap(undefined, 'small', md[2]),
    ap(undefined, 'medium', md[2]),
    ap(undefined, 'large', md[2]),
    ar('all', md[0]),
    ar('all', md[1]),
    ar('all', md[2]),
    ar('small', md[2]),
    ar('medium', md[2]),
    ar('large', md[2]),
  ];
}

function checkedArrays(a: CocoResultArrays, gt: CocoDataset, source: string): CocoResultArrays {
  for (let i = 0; i < a.n; i++) {
    const problem = !gt.images.has(a.imageId[i])
      ? `image_id ${a.imageId[i]} is not an image of the ground truth`
      : !gt.cats.has(a.categoryId[i])
        ? `category_id ${a.categoryId[i]} is not a category of the ground truth`
        : !(a.bbox[i * 4 + 2] > 0 && a.bbox[i * 4 + 3] > 0)
          ? 'bbox width and height must be > 0'
          : !Number.isFinite(a.score[i])
            ? `score is ${a.score[i]}`
            : '';
    if (problem) throw new ResdetError(`${source}: [${i}]: ${problem}`);
  }
  return a;
}

/**
 * Evaluates detections against COCO ground truth. `gt` is a CocoDataset or a parsed instances
 * object; `dets` a results list (plain JSON is validated: a bad record throws a ResdetError
 * naming it), a CocoDataset made by loadRes, or columns from loadCocoResultArrays.
 */
export function evaluateCoco(
  gt: CocoDataset | unknown,
  dets: CocoDataset | CocoResultArrays | readonly CocoResult[] | unknown,
  opts: CocoEvalOptions = {},
): CocoSummary {
  const gtSet = gt instanceof CocoDataset ? gt : CocoDataset.fromJson(gt, opts.gtSource ?? 'ground truth');
  const dtSource = opts.dtSource ?? 'detections';
  const dtArrays = isCocoResultArrays(dets)
    ? checkedArrays(dets, gtSet, dtSource)
    : resultsToArrays(
        (dets instanceof CocoDataset ? dets : gtSet.loadRes(dets, dtSource)).annotations as CocoResult[],
      );
  const p: CocoEvalParams = { ...defaultCocoParams(), ...opts.params };
  if (p.maxDets.length === 0 || p.iouThrs.length === 0 || p.recThrs.length === 0)
    throw new ResdetError(
      'COCO evaluation needs at least one IoU threshold, recall threshold and maxDets value',
    );
  const imgIds = [...(opts.imgIds ?? gtSet.images.keys())].sort((a, b) => a - b);
  const catIds = [...(opts.catIds ?? gtSet.cats.keys())].sort((a, b) => a - b);
  const match = matchCoco({ imgIds, catIds, gts: gtSet.annotations, dts: dtArrays }, p);
  const acc = accumulateCoco(match, p);
  const stats = summarize(acc.precision, acc.recall, acc.shape, p);
  const perCat: Record<string, number> = {};
  const perCat50: Record<string, number> = {};
  const allT = range(acc.shape.T);
  const t50 = allT.filter((t) => p.iouThrs[t] === 0.5);
  const aAll = Math.max(
    0,
    p.areaRanges.findIndex((r) => r.label === 'all'),
  );
  const mLast = p.maxDets.length - 1;
  catIds.forEach((id, k) => {
    perCat[String(id)] = meanValid(acc.precision, precisionIndices(acc.shape, allT, [k], aAll, mLast));
    perCat50[String(id)] = meanValid(acc.precision, precisionIndices(acc.shape, t50, [k], aAll, mLast));
  });
  const named = Object.fromEntries(COCO_STAT_NAMES.map((n, i) => [n, stats[i]])) as CocoStats;
  return {
    ...named,
    per_category: perCat,
    per_category_ap50: perCat50,
    stats,
    params: p,
    catIds,
    catNames: catIds.map((id) => gtSet.cats.get(id)?.name ?? String(id)),
    precision: acc.precision,
    recall: acc.recall,
    shape: acc.shape,
    counts: {
      images: imgIds.length,
      categories: catIds.length,
      annotations: gtSet.annotations.length,
      detections: dtArrays.n,
    },
  };
}

/** The --json shape: the 12 numbers and per-category AP. */
export function cocoSummaryJson(s: CocoSummary): CocoStats & { per_category: Record<string, number> } {
  const out = Object.fromEntries(COCO_STAT_NAMES.map((n) => [n, s[n]])) as CocoStats;
  return { ...out, per_category: s.per_category };
}

/**
 * Python's '%0.3f': rounds the exact binary value, exact ties to even. JS toFixed takes the
 * larger neighbour on an exact tie (0.5625 -> 0.563 where Python prints 0.562).
 */
export function pyFixed3(x: number): string {
  const tie = /^(-?\d+\.\d{3})50*$/.exec(x.toFixed(60));
  if (tie && Number(tie[1].at(-1)) % 2 === 0) return tie[1];
  return x.toFixed(3);
}

/** The 12 lines pycocotools' summarize() prints. */
export function formatCocoSummary(s: CocoSummary): string {
  const p = s.params;
  const lo = p.iouThrs[0].toFixed(2);
  const hi = p.iouThrs[p.iouThrs.length - 1].toFixed(2);
  const md = p.maxDets;
  const rows: [boolean, number | undefined, string, number | undefined][] = [
    [true, undefined, 'all', 100],
    [true, 0.5, 'all', md[2]],
    [true, 0.75, 'all', md[2]],
    [true, undefined, 'small', md[2]],
    [true, undefined, 'medium', md[2]],
    [true, undefined, 'large', md[2]],
    [false, undefined, 'all', md[0]],
    [false, undefined, 'all', md[1]],
    [false, undefined, 'all', md[2]],
    [false, undefined, 'small', md[2]],
    [false, undefined, 'medium', md[2]],
    [false, undefined, 'large', md[2]],
  ];
  return rows
    .map(([isAp, iou, area, maxDets], i) => {
      const title = isAp ? 'Average Precision' : 'Average Recall';
      const type = isAp ? '(AP)' : '(AR)';
      const iouStr = iou === undefined ? `${lo}:${hi}` : iou.toFixed(2);
      return ` ${title.padEnd(18)} ${type} @[ IoU=${iouStr.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${pyFixed3(s.stats[i])}`;
    })
    .join('\n');
}
