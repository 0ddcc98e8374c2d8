/**
 * COCO evaluation with pycocotools' COCOeval semantics (evaluate, accumulate, summarize) for
 * boxes, masks and keypoints: one core whose comparison is swapped per iouType (box IoU, mask
 * IoU, OKS); the summary numbers, per-category AP, and the precision array for PR plots.
 */
import { ResdetError } from '../../core/errors.js';
import { CocoDataset } from '../../data/coco/dataset.js';
import { idIndex } from '../../data/coco/id-index.js';
import type { Rle } from '../../data/coco/mask.js';
import { resultColumns } from '../../data/coco/result-columns.js';
import { type CocoResultArrays, isCocoResultArrays } from '../../data/coco/results-fast.js';
import { checkedKeypoints, segmentationRle } from '../../data/coco/segmentation.js';
import type { CocoResult } from '../../data/coco/types.js';
import { RecordRef } from '../../data/coco/validate.js';
import { accumulateCoco } from './coco-accumulate.js';
import { type CocoMatchResult, type CocoSimilarity, matchCoco } from './coco-match.js';
import { type CocoEvalParams, type CocoIouType, defaultCocoParams } from './coco-params.js';
import { maskSimilarity, oksSimilarity } from './coco-similarity.js';

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

/** The 10 keypoint numbers, in COCOeval.stats order (all at maxDets 20). */
export const COCO_KEYPOINT_STAT_NAMES = [
  'AP',
  'AP50',
  'AP75',
  'APm',
  'APl',
  'AR',
  'AR50',
  'AR75',
  'ARm',
  'ARl',
] as const;
export type CocoKeypointStatName = (typeof COCO_KEYPOINT_STAT_NAMES)[number];
export type CocoKeypointStats = Record<CocoKeypointStatName, number>;

/** What one of the summary numbers averages (pycocotools' _summarize arguments). */
export interface CocoStatSpec {
  name: string;
  ap: boolean;
  iouThr?: number;
  area: string;
  maxDets: number | undefined;
}

/** summarize()'s numbers for bbox/segm (summarizeDets) or keypoints (summarizeKps). */
export function cocoStatSpecs(iouType: CocoIouType, p: CocoEvalParams): CocoStatSpec[] {
  if (iouType === 'keypoints') {
    const rows: [boolean, number | undefined, string][] = [
      [true, undefined, 'all'],
      [true, 0.5, 'all'],
      [true, 0.75, 'all'],
      [true, undefined, 'medium'],
      [true, undefined, 'large'],
      [false, undefined, 'all'],
      [false, 0.5, 'all'],
      [false, 0.75, 'all'],
      [false, undefined, 'medium'],
      [false, undefined, 'large'],
    ];
    return rows.map(([ap, iouThr, area], i) => ({
      name: COCO_KEYPOINT_STAT_NAMES[i],
      ap,
      iouThr,
      area,
      maxDets: 20,
    }));
  }
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
  return rows.map(([ap, iouThr, area, maxDets], i) => ({
    name: COCO_STAT_NAMES[i],
    ap,
    iouThr,
    area,
    maxDets,
  }));
}

/** What every COCO evaluation returns, whatever it compared. */
export interface CocoEvalResult {
  iouType: CocoIouType;
  /** Names of `stats`, in pycocotools' order. */
  statNames: readonly string[];
  /** The summary numbers in pycocotools' order (12 for bbox/segm, 10 for keypoints). */
  stats: number[];
  AP: number;
  AP50: number;
  AP75: number;
  /** AP@[.50:.95] per category id (area all, last maxDets); -1 for a category without GT. */
  per_category: Record<string, number>;
  /** AP@.50 / AP@.75 per category id; -1 for a category without GT. */
  per_category_ap50: Record<string, number>;
  per_category_ap75: Record<string, number>;
  /** The summary numbers restricted to one category. */
  per_category_stats: Record<string, Record<string, number>>;
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

/** bbox / segm evaluation: the 12 numbers by name. */
export interface CocoSummary extends CocoEvalResult, CocoStats {}
/** keypoints evaluation: the 10 numbers by name. */
export interface CocoKeypointSummary extends CocoEvalResult, CocoKeypointStats {}

export interface CocoEvalOptions {
  /** bbox (default), segm (masks) or keypoints (OKS). */
  iouType?: CocoIouType;
  /** Names the GT and detections in error messages (file paths, "request body"). */
  gtSource?: string;
  dtSource?: string;
  /** Evaluate only these images / categories (default: all of the GT's). */
  imgIds?: readonly number[];
  catIds?: readonly number[];
  params?: Partial<CocoEvalParams>;
}

/** Mean of precision[t, :, k, a, m] over ts and ks, entries > -1 only; -1 when none (as _summarize). */
function meanPrecision(
  precision: Float64Array,
  shape: CocoEvalResult['shape'],
  ts: readonly number[],
  ks: readonly number[],
  a: number,
  m: number,
): number {
  const { R, K, A, M } = shape;
  let sum = 0;
  let n = 0;
  for (const t of ts)
    for (let r = 0; r < R; r++)
      for (const k of ks) {
        const v = precision[(((t * R + r) * K + k) * A + a) * M + m];
        if (v > -1) {
          sum += v;
          n++;
        }
      }
  return n === 0 ? -1 : sum / n;
}

/** Mean of recall[t, k, a, m] over ts and ks, entries > -1 only; -1 when none. */
function meanRecall(
  recall: Float64Array,
  shape: CocoEvalResult['shape'],
  ts: readonly number[],
  ks: readonly number[],
  a: number,
  m: number,
): number {
  const { K, A, M } = shape;
  let sum = 0;
  let n = 0;
  for (const t of ts)
    for (const k of ks) {
      const v = recall[((t * K + k) * A + a) * M + m];
      if (v > -1) {
        sum += v;
        n++;
      }
    }
  return n === 0 ? -1 : sum / n;
}

/**
 * meanPrecision / meanRecall for each category alone, in one pass: entry k sums its values in
 * the same order (t, then r) as the single-category call, so the numbers are the same; the
 * pass reads the array in memory order where 80 single-category calls stride across it.
 */
function meanPerCategory(
  values: Float64Array,
  shape: CocoEvalResult['shape'],
  ts: readonly number[],
  a: number,
  m: number,
  ap: boolean,
): Float64Array {
  const { K, A, M } = shape;
  const R = ap ? shape.R : 1;
  const sum = new Float64Array(K);
  const n = new Int32Array(K);
  for (const t of ts)
    for (let r = 0; r < R; r++) {
      const base = (t * R + r) * K;
      for (let k = 0; k < K; k++) {
        const v = values[((base + k) * A + a) * M + m];
        if (v > -1) {
          sum[k] += v;
          n[k]++;
        }
      }
    }
  for (let k = 0; k < K; k++) sum[k] = n[k] === 0 ? -1 : sum[k] / n[k];
  return sum;
}

/** summarize() for each category alone: out[spec][k]. */
function summarizePerCategory(
  precision: Float64Array,
  recall: Float64Array,
  shape: CocoEvalResult['shape'],
  p: CocoEvalParams,
  specs: readonly CocoStatSpec[],
): Float64Array[] {
  const allT = range(shape.T);
  return specs.map((spec) => {
    const a = p.areaRanges.findIndex((r) => r.label === spec.area);
    const m = spec.maxDets === undefined ? -1 : p.maxDets.indexOf(spec.maxDets);
    if (a < 0 || m < 0) return new Float64Array(shape.K).fill(-1);
    const ts = spec.iouThr === undefined ? allT : allT.filter((t) => p.iouThrs[t] === spec.iouThr);
    return meanPerCategory(spec.ap ? precision : recall, shape, ts, a, m, spec.ap);
  });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** COCOeval._summarize for each spec, over categories `ks`. */
function summarize(
  precision: Float64Array,
  recall: Float64Array,
  shape: CocoEvalResult['shape'],
  p: CocoEvalParams,
  specs: readonly CocoStatSpec[],
  ks: readonly number[],
): number[] {
  const allT = range(shape.T);
  return specs.map((spec) => {
    const a = p.areaRanges.findIndex((r) => r.label === spec.area);
    const m = spec.maxDets === undefined ? -1 : p.maxDets.indexOf(spec.maxDets);
    if (a < 0 || m < 0) return -1;
    const ts = spec.iouThr === undefined ? allT : allT.filter((t) => p.iouThrs[t] === spec.iouThr);
    return spec.ap ? meanPrecision(precision, shape, ts, ks, a, m) : meanRecall(recall, shape, ts, ks, a, m);
  });
}

function checkedArrays(a: CocoResultArrays, gt: CocoDataset, source: string): CocoResultArrays {
  const images = idIndex(gt.images.keys());
  const cats = idIndex(gt.cats.keys());
  for (let i = 0; i < a.n; i++) {
    const problem =
      images.get(a.imageId[i]) < 0
        ? `image_id ${a.imageId[i]} is not an image of the ground truth`
        : cats.get(a.categoryId[i]) < 0
          ? `category_id ${a.categoryId[i]} is not a category of the ground truth`
          : !(a.bbox[i * 4 + 2] > 0 && a.bbox[i * 4 + 3] > 0) && !a.masks && !a.keypoints
            ? 'bbox width and height must be > 0'
            : !Number.isFinite(a.score[i])
              ? `score is ${a.score[i]}`
              : '';
    if (problem) throw new ResdetError(`${source}: [${i}]: ${problem}`);
  }
  return a;
}

/**
 * The detections as columns with what `iouType` compares (masks, keypoints). `dets` is a
 * results list (validated: a bad record throws a ResdetError naming it), a CocoDataset made by
 * loadRes, or columns from loadCocoResultArrays.
 */
export function cocoDetectionColumns(
  gtSet: CocoDataset,
  dets: CocoDataset | CocoResultArrays | readonly CocoResult[] | unknown,
  iouType: CocoIouType,
  dtSource: string,
): CocoResultArrays {
  if (isCocoResultArrays(dets)) {
    if (iouType === 'segm' && !dets.masks)
      throw new ResdetError(
        `${dtSource}: segm evaluation needs the detections' masks (columns without masks given)`,
      );
    if (iouType === 'keypoints' && !dets.keypoints)
      throw new ResdetError(`${dtSource}: keypoints evaluation needs the detections' keypoints`);
    return checkedArrays(dets, gtSet, dtSource);
  }
  const res = dets instanceof CocoDataset ? dets : gtSet.loadRes(dets, dtSource);
  return resultColumns(res.annotations, iouType, gtSet, dtSource);
}

/** What the GT adds for masks and keypoints: per-annotation masks / keypoints and ignore flags. */
function groundTruthSimilarity(
  gtSet: CocoDataset,
  dts: CocoResultArrays,
  iouType: CocoIouType,
  p: CocoEvalParams,
  imgIds: readonly number[],
  catIds: readonly number[],
  dtSource: string,
): { similarity?: CocoSimilarity; gtIgnore?: Uint8Array } {
  if (iouType === 'bbox') return {};
  const gts = gtSet.annotations;
  const imgs = new Set(imgIds);
  const cats = new Set(catIds);
  const crowd = new Uint8Array(gts.length);
  gts.forEach((a, j) => {
    crowd[j] = a.iscrowd ? 1 : 0;
  });
  const where = (j: number) => String(new RecordRef(gtSet.source, 'annotations', j, gts[j].id));
  if (iouType === 'segm') {
    const masks: (Rle | undefined)[] = new Array(gts.length);
    gts.forEach((a, j) => {
      if (imgs.has(a.image_id) && cats.has(a.category_id))
        masks[j] = segmentationRle(a, gtSet.images.get(a.image_id), where(j));
    });
    return { similarity: maskSimilarity(masks, crowd, dts.masks as Rle[]) };
  }
  const K = p.kptOksSigmas.length;
  const dk = dts.keypoints as Float64Array;
  if (dts.n > 0 && dk.length !== dts.n * 3 * K)
    throw new ResdetError(
      `${dtSource}: "keypoints" must be 3K = ${3 * K} numbers (x, y, v for each of the ${K} keypoints), found ${dk.length / dts.n}`,
    );
  const kps: (Float64Array | undefined)[] = new Array(gts.length);
  const ignore = new Uint8Array(gts.length);
  gts.forEach((a, j) => {
    if (!(imgs.has(a.image_id) && cats.has(a.category_id))) return;
    const kp = checkedKeypoints(a.keypoints, where(j), K);
    kps[j] = kp;
    let labeled = 0;
    for (let k = 0; k < K; k++) if (kp[k * 3 + 2] > 0) labeled++;
    const stored = typeof a.num_keypoints === 'number' ? a.num_keypoints : labeled;
    ignore[j] = crowd[j] || stored === 0 ? 1 : 0;
  });
  return { similarity: oksSimilarity(gts, kps, dk, p.kptOksSigmas), gtIgnore: ignore };
}

/**
 * Evaluates detections against COCO ground truth as COCOeval(iouType) evaluate, accumulate and
 * summarize. `gt` is a CocoDataset or a parsed instances object; `dets` a results list (plain
 * JSON is validated: a bad record throws a ResdetError naming it), a CocoDataset made by
 * loadRes, or columns from loadCocoResultArrays.
 */
export function evaluateCoco(
  gt: CocoDataset | unknown,
  dets: CocoDataset | CocoResultArrays | readonly CocoResult[] | unknown,
  opts: CocoEvalOptions & { iouType: 'keypoints' },
): CocoKeypointSummary;
export function evaluateCoco(
  gt: CocoDataset | unknown,
  dets: CocoDataset | CocoResultArrays | readonly CocoResult[] | unknown,
  opts?: CocoEvalOptions,
): CocoSummary;
export function evaluateCoco(
  gt: CocoDataset | unknown,
  dets: CocoDataset | CocoResultArrays | readonly CocoResult[] | unknown,
  opts: CocoEvalOptions = {},
): CocoSummary | CocoKeypointSummary {
  const prep = prepareCocoEval(gt, dets, opts);
  return summarizeCocoEval(prep, matchCocoEval(prep));
}

/** Everything COCOeval.evaluate needs, checked: GT, detection columns, params, the comparison. */
export interface PreparedCocoEval {
  iouType: CocoIouType;
  gtSet: CocoDataset;
  dts: CocoResultArrays;
  params: CocoEvalParams;
  imgIds: number[];
  catIds: number[];
  similarity?: CocoSimilarity;
  gtIgnore?: Uint8Array;
}

export function prepareCocoEval(
  gt: CocoDataset | unknown,
  dets: CocoDataset | CocoResultArrays | readonly CocoResult[] | unknown,
  opts: CocoEvalOptions = {},
): PreparedCocoEval {
  const iouType = opts.iouType ?? 'bbox';
  const gtSet = gt instanceof CocoDataset ? gt : CocoDataset.fromJson(gt, opts.gtSource ?? 'ground truth');
  const dtSource = opts.dtSource ?? 'detections';
  const dts = cocoDetectionColumns(gtSet, dets, iouType, dtSource);
  const params: CocoEvalParams = { ...defaultCocoParams(iouType), ...opts.params };
  if (params.maxDets.length === 0 || params.iouThrs.length === 0 || params.recThrs.length === 0)
    throw new ResdetError(
      'COCO evaluation needs at least one IoU threshold, recall threshold and maxDets value',
    );
  const imgIds = [...(opts.imgIds ?? gtSet.images.keys())].sort((a, b) => a - b);
  const catIds = [...(opts.catIds ?? gtSet.cats.keys())].sort((a, b) => a - b);
  const extra = groundTruthSimilarity(gtSet, dts, iouType, params, imgIds, catIds, dtSource);
  return { iouType, gtSet, dts, params, imgIds, catIds, ...extra };
}

/** COCOeval.evaluate: per (area, IoU threshold, detection) TP / FP / ignored. */
export function matchCocoEval(
  prep: PreparedCocoEval,
  recordMatchesAt?: { a: number; t: number },
): CocoMatchResult {
  const { imgIds, catIds, gtSet, dts, similarity, gtIgnore, params } = prep;
  return matchCoco(
    { imgIds, catIds, gts: gtSet.annotations, dts, similarity, gtIgnore, recordMatchesAt },
    params,
  );
}

/** COCOeval.accumulate and summarize. */
export function summarizeCocoEval(
  prep: PreparedCocoEval,
  match: CocoMatchResult,
): CocoSummary | CocoKeypointSummary {
  const { iouType, gtSet, params: p, imgIds, catIds } = prep;
  const dtArrays = prep.dts;
  const acc = accumulateCoco(match, p);
  const specs = cocoStatSpecs(iouType, p);
  const allK = range(acc.shape.K);
  const stats = summarize(acc.precision, acc.recall, acc.shape, p, specs, allK);
  const perCat: Record<string, number> = {};
  const perCat50: Record<string, number> = {};
  const perCat75: Record<string, number> = {};
  const perCatStats: Record<string, Record<string, number>> = {};
  const allT = range(acc.shape.T);
  const t50 = allT.filter((t) => p.iouThrs[t] === 0.5);
  const t75 = allT.filter((t) => p.iouThrs[t] === 0.75);
  const aAll = Math.max(
    0,
    p.areaRanges.findIndex((r) => r.label === 'all'),
  );
  const mLast = p.maxDets.length - 1;
  const ap = meanPerCategory(acc.precision, acc.shape, allT, aAll, mLast, true);
  const ap50 = meanPerCategory(acc.precision, acc.shape, t50, aAll, mLast, true);
  const ap75 = meanPerCategory(acc.precision, acc.shape, t75, aAll, mLast, true);
  const perSpec = summarizePerCategory(acc.precision, acc.recall, acc.shape, p, specs);
  catIds.forEach((id, k) => {
    perCat[String(id)] = ap[k];
    perCat50[String(id)] = ap50[k];
    perCat75[String(id)] = ap75[k];
    perCatStats[String(id)] = Object.fromEntries(specs.map((sp, i) => [sp.name, perSpec[i][k]]));
  });
  const named = Object.fromEntries(specs.map((sp, i) => [sp.name, stats[i]]));
  return {
    ...(named as CocoStats & CocoKeypointStats),
    iouType,
    statNames: specs.map((sp) => sp.name),
    per_category: perCat,
    per_category_ap50: perCat50,
    per_category_ap75: perCat75,
    per_category_stats: perCatStats,
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

export interface CocoSummaryJson {
  [stat: string]: number | Record<string, number>;
  per_category: Record<string, number>;
}

/** The --json shape: the summary numbers by name (12, or 10 for keypoints) and per-category AP. */
export function cocoSummaryJson(s: CocoEvalResult): CocoSummaryJson {
  const out: Record<string, number> = Object.fromEntries(s.statNames.map((n, i) => [n, s.stats[i]]));
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

/** The lines pycocotools' summarize() prints (12, or 10 for keypoints). */
export function formatCocoSummary(s: CocoEvalResult): string {
  const p = s.params;
  const lo = p.iouThrs[0].toFixed(2);
  const hi = p.iouThrs[p.iouThrs.length - 1].toFixed(2);
  return cocoStatSpecs(s.iouType ?? 'bbox', p)
    .map((spec, i) => {
      const title = spec.ap ? 'Average Precision' : 'Average Recall';
      const type = spec.ap ? '(AP)' : '(AR)';
      const iouStr = spec.iouThr === undefined ? `${lo}:${hi}` : spec.iouThr.toFixed(2);
      return ` ${title.padEnd(18)} ${type} @[ IoU=${iouStr.padEnd(9)} | area=${spec.area.padStart(6)} | maxDets=${String(spec.maxDets).padStart(3)} ] = ${pyFixed3(s.stats[i])}`;
    })
    .join('\n');
}
