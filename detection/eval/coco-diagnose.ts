/**
 * Diagnostics of a COCO evaluation: per-category AP / AP50 / AR, precision / recall / F1 at a
 * score threshold, a confusion matrix with a background class, and a TIDE breakdown of the AP
 * lost to each kind of error.
 *
 * TIDE (Bolya, Foley, Hays, Hoffman: "TIDE: A General Toolbox for Identifying Object Detection
 * Errors", ECCV 2020), with its foreground threshold t_f = 0.5 and background threshold
 * t_b = 0.1. Every false positive at IoU 0.5 (area all, the last maxDets, COCOeval's own
 * matching) is assigned one error by its IoU_max with the GT of the image, in this order:
 *   background    IoU_max <= t_b with every GT;
 *   classification IoU_max >= t_f with a GT of another category;
 *   duplicate     IoU_max >= t_f with a GT of its category that a higher-scoring detection matched;
 *   localisation  t_b <= IoU_max < t_f with a GT of its category;
 *   both          t_b <= IoU_max < t_f with a GT of another category.
 * A missed GT is a non-ignored GT matched by no true positive and targeted by no classification
 * or localisation error. The oracle for each kind, applied to that kind alone: a classification
 * error takes its GT's category and becomes a true positive (suppressed if that GT is already
 * matched); a localisation error takes its GT's box (the same); duplicate, background and both
 * errors are suppressed; missed GT are taken off the GT count. dAP = AP50 after the fix - AP50
 * before, AP50 being COCO's 101-point AP at IoU 0.5 averaged over categories.
 */
import type { CocoDataset } from '../../data/coco/dataset.js';
import type { CocoResultArrays } from '../../data/coco/results-fast.js';
import type { CocoResult } from '../../data/coco/types.js';
import {
  type CocoEvalOptions,
  type CocoEvalResult,
  matchCocoEval,
  type PreparedCocoEval,
  prepareCocoEval,
  summarizeCocoEval,
} from './coco.js';
import { type CocoMatchResult, type CocoSimilarity, FP, IGNORED, matchStatus, TP } from './coco-match.js';
import { boxSimilarity } from './coco-similarity.js';

export const TIDE_FOREGROUND_IOU = 0.5;
export const TIDE_BACKGROUND_IOU = 0.1;
export const TIDE_ERRORS = [
  'classification',
  'localisation',
  'both',
  'duplicate',
  'background',
  'missed',
] as const;
export type TideError = (typeof TIDE_ERRORS)[number];

export interface CategoryDiagnosis {
  id: number;
  name: string;
  /** Non-ignored GT and evaluated detections (after the maxDets cut). */
  gt: number;
  detections: number;
  AP: number;
  AP50: number;
  /** AR at the last maxDets (AR100; keypoints AR at 20). */
  AR: number;
  /** At score >= threshold and IoU 0.5 (area all): counts and ratios. */
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface CocoDiagnosis {
  scoreThreshold: number;
  iouThreshold: number;
  perCategory: CategoryDiagnosis[];
  overall: { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number };
  /**
   * Counts at score >= threshold, IoU >= 0.5, matched across categories: rows are the GT
   * category (last row: background, i.e. no GT), columns the detected one (last: background,
   * i.e. missed GT). labels[i] names row/column i.
   */
  confusion: { labels: string[]; matrix: number[][] };
  tide: {
    foregroundIou: number;
    backgroundIou: number;
    /** AP50 before any fix (equals COCO's AP50). */
    ap50: number;
    errors: Record<TideError, { count: number; dAP: number }>;
  };
}

export interface CocoDiagnoseOptions extends CocoEvalOptions {
  /** Detections below this score are left out of P/R/F1 and the confusion matrix (default 0.5). */
  scoreThreshold?: number;
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

function prf(tp: number, fp: number, fn: number) {
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return { tp, fp, fn, precision, recall, f1: ratio(2 * precision * recall, precision + recall) };
}

/** COCO's AP at one IoU threshold: 101-point interpolated precision over ranked entries. */
function ap101(
  entries: { score: number; order: number; status: number }[],
  npos: number,
  recThrs: readonly number[],
): number {
  if (npos <= 0) return -1;
  const ranked = entries.filter((e) => e.status !== IGNORED);
  ranked.sort((a, b) => b.score - a.score || a.order - b.order);
  const pr: number[] = [];
  let tp = 0;
  let fp = 0;
  for (const e of ranked) {
    if (e.status === TP) {
      tp++;
      pr.push(tp / (fp + tp + 2.220446049250313e-16));
    } else fp++;
  }
  for (let j = pr.length - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
  let sum = 0;
  let idx = 0;
  for (const thr of recThrs) {
    while (idx < tp && (idx + 1) / npos < thr) idx++;
    sum += idx < tp ? pr[idx] : 0;
  }
  return sum / recThrs.length;
}

function meanValid(values: number[]): number {
  const v = values.filter((x) => x > -1);
  return v.length === 0 ? -1 : v.reduce((a, b) => a + b, 0) / v.length;
}

/** Evaluates and diagnoses: the summary plus per-category tables, P/R/F1, confusion and TIDE. */
export function diagnoseCoco(
  gt: CocoDataset | unknown,
  dets: CocoDataset | CocoResultArrays | readonly CocoResult[] | unknown,
  opts: CocoDiagnoseOptions = {},
): { summary: CocoEvalResult; diagnosis: CocoDiagnosis } {
  const prep = prepareCocoEval(gt, dets, opts);
  const p = prep.params;
  const aAll = Math.max(
    0,
    p.areaRanges.findIndex((r) => r.label === 'all'),
  );
  const t50 = p.iouThrs.indexOf(TIDE_FOREGROUND_IOU);
  if (t50 < 0) throw new Error('diagnostics need IoU threshold 0.5 among the evaluated thresholds');
  const match = matchCocoEval(prep, { a: aAll, t: t50 });
  const summary = summarizeCocoEval(prep, match);
  const scoreThreshold = opts.scoreThreshold ?? 0.5;
  const diagnosis = diagnose(prep, match, summary, aAll, t50, scoreThreshold);
  return { summary, diagnosis };
}

function diagnose(
  prep: PreparedCocoEval,
  match: CocoMatchResult,
  summary: CocoEvalResult,
  aAll: number,
  t50: number,
  scoreThreshold: number,
): CocoDiagnosis {
  const { K, I, numDets: ND, dtStart, dtScore, dtIndex, gtStart, gtIndex, npig } = match;
  const p = prep.params;
  const A = p.areaRanges.length;
  const gts = prep.gtSet.annotations;
  const st = new Uint8Array(ND);
  for (let q = 0; q < ND; q++) st[q] = matchStatus(match, A, aAll, t50, q);
  const dtMatch = match.dtMatch as Int32Array;
  const ignored = (j: number) => (prep.gtIgnore ? prep.gtIgnore[j] === 1 : Boolean(gts[j].iscrowd));
  const catOf = (j: number) => gts[j].category_id;
  const catIndex = new Map(prep.catIds.map((id, k) => [id, k]));
  const similarity: CocoSimilarity = prep.similarity ?? boxSimilarity(gts, prep.dts.bbox);

  // GT of each image (all evaluated categories) and the detections' (image, category).
  const imageGts: number[][] = Array.from({ length: I }, () => []);
  for (let k = 0; k < K; k++)
    for (let i = 0; i < I; i++)
      for (let q = gtStart[k * I + i]; q < gtStart[k * I + i + 1]; q++) imageGts[i].push(gtIndex[q]);
  const dtCat = new Int32Array(ND);
  const dtImg = new Int32Array(ND);
  for (let k = 0; k < K; k++)
    for (let i = 0; i < I; i++)
      for (let q = dtStart[k * I + i]; q < dtStart[k * I + i + 1]; q++) {
        dtCat[q] = k;
        dtImg[q] = i;
      }
  let scratch = new Float64Array(64);
  const ious = (q: number, gIdx: number[]): Float64Array => {
    if (gIdx.length > scratch.length) scratch = new Float64Array(gIdx.length * 2);
    similarity.fill(scratch, Int32Array.of(dtIndex[q]), Int32Array.from(gIdx));
    return scratch;
  };

  // P/R/F1 per category at the score threshold.
  const tpK = new Int32Array(K);
  const fpK = new Int32Array(K);
  const detsK = new Int32Array(K);
  for (let q = 0; q < ND; q++) {
    detsK[dtCat[q]]++;
    if (dtScore[q] < scoreThreshold) continue;
    if (st[q] === TP) tpK[dtCat[q]]++;
    else if (st[q] === FP) fpK[dtCat[q]]++;
  }
  const nposK = Array.from({ length: K }, (_, k) => npig[k * A + aAll]);
  const arName = summary.iouType === 'keypoints' ? 'AR' : 'AR100';
  const perCategory: CategoryDiagnosis[] = prep.catIds.map((id, k) => {
    const cs = summary.per_category_stats[String(id)];
    return {
      id,
      name: summary.catNames[k],
      gt: nposK[k],
      detections: detsK[k],
      AP: summary.per_category[String(id)],
      AP50: summary.per_category_ap50[String(id)],
      AR: cs[arName],
      ...prf(tpK[k], fpK[k], nposK[k] - tpK[k]),
    };
  });
  const sum = (a: ArrayLike<number>) => {
    let t = 0;
    for (let i = 0; i < a.length; i++) t += a[i];
    return t;
  };
  const overall = prf(sum(tpK), sum(fpK), sum(nposK) - sum(tpK));

  // Confusion matrix: per image, detections above the threshold by score, greedily matched to
  // the unmatched non-ignored GT of highest IoU >= 0.5 whatever its category.
  const B = K;
  const matrix = Array.from({ length: K + 1 }, () => new Array<number>(K + 1).fill(0));
  const byImage: number[][] = Array.from({ length: I }, () => []);
  for (let q = 0; q < ND; q++) if (dtScore[q] >= scoreThreshold) byImage[dtImg[q]].push(q);
  for (let i = 0; i < I; i++) {
    const gIdx = imageGts[i];
    const taken = new Uint8Array(gIdx.length);
    const qs = byImage[i].sort((a, b) => dtScore[b] - dtScore[a] || a - b);
    for (const q of qs) {
      const v = gIdx.length > 0 ? ious(q, gIdx) : scratch;
      let best = -1;
      let bestIou = TIDE_FOREGROUND_IOU;
      let onIgnored = false;
      for (let g = 0; g < gIdx.length; g++) {
        if (v[g] < TIDE_FOREGROUND_IOU) continue;
        if (ignored(gIdx[g])) onIgnored = true;
        else if (!taken[g] && v[g] >= bestIou) {
          bestIou = v[g];
          best = g;
        }
      }
      if (best >= 0) {
        taken[best] = 1;
        matrix[catIndex.get(catOf(gIdx[best])) as number][dtCat[q]]++;
      } else if (!onIgnored) matrix[B][dtCat[q]]++;
    }
    for (let g = 0; g < gIdx.length; g++)
      if (!taken[g] && !ignored(gIdx[g])) matrix[catIndex.get(catOf(gIdx[g])) as number][B]++;
  }

  // TIDE.
  const used = new Uint8Array(gts.length);
  for (let q = 0; q < ND; q++) if (st[q] === TP && dtMatch[q] >= 0) used[dtMatch[q]] = 1;
  const kind = new Int8Array(ND).fill(-1);
  const target = new Int32Array(ND).fill(-1);
  const E = (e: TideError) => TIDE_ERRORS.indexOf(e);
  for (let q = 0; q < ND; q++) {
    if (st[q] !== FP) continue;
    const gIdx = imageGts[dtImg[q]].filter((j) => !ignored(j));
    if (gIdx.length === 0) {
      kind[q] = E('background');
      continue;
    }
    const v = ious(q, gIdx);
    let maxAll = 0;
    let other = -1;
    let otherIou = -1;
    let same = -1;
    let sameIou = -1;
    let sameUsedIou = -1;
    for (let g = 0; g < gIdx.length; g++) {
      const j = gIdx[g];
      maxAll = Math.max(maxAll, v[g]);
      if (catIndex.get(catOf(j)) === dtCat[q]) {
        if (used[j]) sameUsedIou = Math.max(sameUsedIou, v[g]);
        if (v[g] > sameIou) {
          sameIou = v[g];
          same = j;
        }
      } else if (v[g] > otherIou) {
        otherIou = v[g];
        other = j;
      }
    }
    if (maxAll <= TIDE_BACKGROUND_IOU) kind[q] = E('background');
    else if (otherIou >= TIDE_FOREGROUND_IOU) {
      kind[q] = E('classification');
      target[q] = other;
    } else if (sameUsedIou >= TIDE_FOREGROUND_IOU) kind[q] = E('duplicate');
    else if (sameIou >= TIDE_BACKGROUND_IOU) {
      kind[q] = E('localisation');
      target[q] = same;
    } else kind[q] = E('both');
  }
  const covered = new Uint8Array(gts.length);
  for (let q = 0; q < ND; q++) if (target[q] >= 0) covered[target[q]] = 1;
  const missedK = new Int32Array(K);
  let missed = 0;
  for (let k = 0; k < K; k++)
    for (let i = 0; i < I; i++)
      for (let q = gtStart[k * I + i]; q < gtStart[k * I + i + 1]; q++) {
        const j = gtIndex[q];
        if (!ignored(j) && !used[j] && !covered[j]) {
          missedK[k]++;
          missed++;
        }
      }

  type Entry = { score: number; order: number; status: number };
  const baseEntries = (): { entries: Entry[][]; entryOf: Entry[] } => {
    const entries: Entry[][] = Array.from({ length: K }, () => []);
    const entryOf: Entry[] = new Array(ND);
    for (let q = 0; q < ND; q++) {
      entryOf[q] = { score: dtScore[q], order: q, status: st[q] };
      entries[dtCat[q]].push(entryOf[q]);
    }
    return { entries, entryOf };
  };
  const ap50Of = (entries: Entry[][], npos: number[]) =>
    meanValid(entries.map((e, k) => ap101(e, npos[k], p.recThrs)));
  const base = ap50Of(baseEntries().entries, nposK);
  const errors = {} as Record<TideError, { count: number; dAP: number }>;
  for (const name of TIDE_ERRORS) {
    const e = E(name);
    const { entries, entryOf } = baseEntries();
    const npos = [...nposK];
    let count = 0;
    if (name === 'missed') {
      count = missed;
      for (let k = 0; k < K; k++) npos[k] -= missedK[k];
    } else {
      const taken = new Uint8Array(used);
      const qs: number[] = [];
      for (let q = 0; q < ND; q++) if (kind[q] === e) qs.push(q);
      count = qs.length;
      qs.sort((a, b) => dtScore[b] - dtScore[a] || a - b);
      for (const q of qs) {
        entryOf[q].status = IGNORED;
        if (name !== 'classification' && name !== 'localisation') continue;
        const j = target[q];
        if (taken[j]) continue;
        taken[j] = 1;
        const k = catIndex.get(catOf(j)) as number;
        entries[k].push({ score: dtScore[q], order: q, status: TP });
      }
    }
    errors[name] = { count, dAP: ap50Of(entries, npos) - base };
  }
  const labels = [...summary.catNames, 'background'];
  return {
    scoreThreshold,
    iouThreshold: TIDE_FOREGROUND_IOU,
    perCategory,
    overall,
    confusion: { labels, matrix },
    tide: { foregroundIou: TIDE_FOREGROUND_IOU, backgroundIou: TIDE_BACKGROUND_IOU, ap50: base, errors },
  };
}
