/**
 * COCOeval.evaluate on typed arrays: ground truth and detections are grouped per
 * (category, image) with a counting sort, detections ordered by score within each group, and
 * every (area range, IoU threshold) matching writes a 2-bit status per detection. The order of
 * every loop and comparison follows pycocotools' evaluateImg, because ties (equal scores, equal
 * IoUs, IoU equal to a threshold) are decided by that order. Boxes are compared inline; masks
 * and keypoints through a CocoSimilarity (pycocotools swaps computeIoU for computeOks the same
 * way and shares the rest).
 */
import { idIndex } from '../../data/coco/id-index.js';
import type { CocoResultArrays } from '../../data/coco/results-fast.js';
import type { CocoAnnotation } from '../../data/coco/types.js';
import type { CocoEvalParams } from './coco-params.js';

/** Per (area, IoU threshold, detection): how the detection counts. */
export const FP = 0;
export const TP = 1;
export const IGNORED = 2;

export interface CocoMatchInput {
  /** Evaluated image ids, ascending (pycocotools sorts them). */
  imgIds: readonly number[];
  /** Evaluated category ids, ascending. */
  catIds: readonly number[];
  gts: readonly CocoAnnotation[];
  /** Detections in results order, as columns; area is dts.area, else w*h. */
  dts: CocoResultArrays;
  /** Per GT: ignored in every area range (default: iscrowd; keypoints add num_keypoints 0). */
  gtIgnore?: Uint8Array;
  /** Mask IoU or OKS instead of box IoU. */
  similarity?: CocoSimilarity;
  /** Record which GT each detection matched at this (area range, IoU threshold) (diagnostics). */
  recordMatchesAt?: { a: number; t: number };
}

/** A similarity other than box IoU (mask IoU, OKS) between detections and GT of one group. */
export interface CocoSimilarity {
  /**
   * out[dd * G + gg] for detections dIdx[0..D) (indices into the results) and GT gIdx[0..G)
   * (indices into gts), detections in score order.
   */
  fill(out: Float64Array, dIdx: Int32Array, gIdx: Int32Array): void;
}

export interface CocoMatchResult {
  K: number;
  I: number;
  /** Detections kept (top maxDets[-1] per image and category), grouped by k * I + i. */
  numDets: number;
  /** Start of each (k, i) group in the kept detections; length K*I + 1. */
  dtStart: Int32Array;
  dtScore: Float64Array;
  /** Rank of the detection within its (image, category) group. */
  dtRank: Int32Array;
  /** Index into the results of each kept detection. */
  dtIndex: Int32Array;
  /** Start of each (k, i) group of GT in gtIndex; length K*I + 1. */
  gtStart: Int32Array;
  /** Index into gts of each grouped GT (file order within a group). */
  gtIndex: Int32Array;
  /**
   * The status in {FP, TP, IGNORED} of kept detection d at area range a and threshold t, 2 bits
   * each, 16 thresholds a word: statusBits[(d * A + a) * W + (t >> 4)] >> (2 * (t & 15)) & 3,
   * W = ceil(T / 16) (matchStatus reads it). One word holds a detection's default 10
   * thresholds, so the accumulation reads one word where a byte per threshold took ten.
   */
  statusBits: Int32Array;
  /** Words per (detection, area range) in statusBits: ceil(T / 16). */
  statusWords: number;
  /** Non-ignored ground truth per (k, a): pycocotools' npig. */
  npig: Int32Array;
  /** With recordMatchesAt: the index into gts each kept detection matched there, else -1. */
  dtMatch?: Int32Array;
}

/** Counting sort of items by group key; stable, so each group keeps input order. */
function groupBy(keys: Int32Array, numGroups: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(numGroups + 1);
  let kept = 0;
  for (let j = 0; j < keys.length; j++) {
    if (keys[j] >= 0) {
      start[keys[j] + 1]++;
      kept++;
    }
  }
  for (let g = 0; g < numGroups; g++) start[g + 1] += start[g];
  const fill = start.slice(0, numGroups);
  const order = new Int32Array(kept);
  for (let j = 0; j < keys.length; j++) if (keys[j] >= 0) order[fill[keys[j]]++] = j;
  return { start, order };
}

/** Stable sort of idx[lo, hi) by score descending (numpy's mergesort on -score). */
function sortByScoreDesc(idx: Int32Array, lo: number, hi: number, score: Float64Array): void {
  const n = hi - lo;
  if (n < 2) return;
  if (n <= 32) {
    for (let i = lo + 1; i < hi; i++) {
      const v = idx[i];
      const s = score[v];
      let j = i - 1;
      while (j >= lo && score[idx[j]] < s) {
        idx[j + 1] = idx[j];
        j--;
      }
      idx[j + 1] = v;
    }
    return;
  }
  const part = Array.from(idx.subarray(lo, hi));
  part.sort((a, b) => score[b] - score[a] || a - b);
  idx.set(part, lo);
}

export function matchCoco(input: CocoMatchInput, p: CocoEvalParams): CocoMatchResult {
  const I = input.imgIds.length;
  const K = input.catIds.length;
  const T = p.iouThrs.length;
  const A = p.areaRanges.length;
  const maxDet = p.maxDets[p.maxDets.length - 1] ?? 0;
  const imgIndex = idIndex(input.imgIds);
  const catIndex = idIndex(input.catIds);
  const groupOf = (imageId: number, catId: number): number => {
    const i = imgIndex.get(imageId);
    const k = catIndex.get(catId);
    return i < 0 || k < 0 ? -1 : k * I + i;
  };

  // Ground truth, grouped; within a group in file order as pycocotools' imgToAnns.
  const gts = input.gts;
  const gKeys = new Int32Array(gts.length);
  for (let j = 0; j < gts.length; j++) gKeys[j] = groupOf(gts[j].image_id, gts[j].category_id);
  const g = groupBy(gKeys, K * I);
  const NG = g.order.length;
  const gBox = new Float64Array(NG * 4);
  const gArea = new Float64Array(NG);
  const gCrowd = new Uint8Array(NG);
  const gIdZero = new Uint8Array(NG);
  const gIgnore = new Uint8Array(NG);
  for (let q = 0; q < NG; q++) {
    const j = g.order[q];
    const a = gts[j];
    gBox.set(a.bbox, q * 4);
    gArea[q] = a.area;
    gCrowd[q] = a.iscrowd ? 1 : 0;
    gIgnore[q] = input.gtIgnore ? input.gtIgnore[j] : gCrowd[q];
    gIdZero[q] = a.id === 0 ? 1 : 0;
  }

  // Detections: grouped, score-sorted (stable) per group, cut to maxDet.
  const dts = input.dts;
  const dKeys = new Int32Array(dts.n);
  const rawScore = dts.score;
  for (let j = 0; j < dts.n; j++) dKeys[j] = groupOf(dts.imageId[j], dts.categoryId[j]);
  const d = groupBy(dKeys, K * I);
  const dtStart = new Int32Array(K * I + 1);
  let kept = 0;
  for (let grp = 0; grp < K * I; grp++) {
    dtStart[grp] = kept;
    kept += Math.min(d.start[grp + 1] - d.start[grp], maxDet);
  }
  dtStart[K * I] = kept;
  const ND = kept;
  const dBox = new Float64Array(ND * 4);
  const dArea = new Float64Array(ND);
  const dtScore = new Float64Array(ND);
  const dtRank = new Int32Array(ND);
  const dtIndex = new Int32Array(ND);
  const givenArea = dts.area;
  // Image by image, so the results are read in file order when they come grouped by image (as
  // detectors write them); category by category would jump through the whole file 80 times.
  for (let i = 0; i < I; i++) {
    for (let k = 0; k < K; k++) {
      const grp = k * I + i;
      const src = d.start[grp];
      sortByScoreDesc(d.order, src, d.start[grp + 1], rawScore);
      for (let q = dtStart[grp], r = 0; q < dtStart[grp + 1]; q++, r++) {
        const j = d.order[src + r];
        const b = dts.bbox;
        dBox[q * 4] = b[j * 4];
        dBox[q * 4 + 1] = b[j * 4 + 1];
        dBox[q * 4 + 2] = b[j * 4 + 2];
        dBox[q * 4 + 3] = b[j * 4 + 3];
        dArea[q] = givenArea ? givenArea[j] : b[j * 4 + 2] * b[j * 4 + 3];
        dtScore[q] = rawScore[j];
        dtRank[q] = r;
        dtIndex[q] = j;
      }
    }
  }

  const areaLo = Float64Array.from(p.areaRanges, (r) => r.range[0]);
  const areaHi = Float64Array.from(p.areaRanges, (r) => r.range[1]);
  // FP is 0: only TP and IGNORED are written.
  const W = Math.ceil(T / 16);
  const bits = new Int32Array(ND * A * W);
  const ignoredWord = new Int32Array(W);
  for (let t = 0; t < T; t++) ignoredWord[t >> 4] |= IGNORED << (2 * (t & 15));
  const rec = input.recordMatchesAt;
  const dtMatch = rec ? new Int32Array(ND).fill(-1) : undefined;
  const npig = new Int32Array(K * A);
  const thr = p.iouThrs.map((t) => Math.min(t, 1 - 1e-10));
  let scratchIou = new Float64Array(64);
  let rowMax = new Float64Array(64);
  let perm = new Int32Array(16);
  let gIgS = new Uint8Array(16);
  let gtm = new Uint8Array(16);

  for (let k = 0; k < K; k++) {
    for (let i = 0; i < I; i++) {
      const grp = k * I + i;
      const g0 = g.start[grp];
      const G = g.start[grp + 1] - g0;
      const d0 = dtStart[grp];
      const D = dtStart[grp + 1] - d0;
      if (G === 0 && D === 0) continue;
      if (G > perm.length) {
        perm = new Int32Array(G * 2);
        gIgS = new Uint8Array(G * 2);
        gtm = new Uint8Array(G * 2);
      }
      if (D * G > scratchIou.length) scratchIou = new Float64Array(D * G * 2);
      if (G > 0 && D > 0 && input.similarity)
        input.similarity.fill(scratchIou, dtIndex.subarray(d0, d0 + D), g.order.subarray(g0, g0 + G));
      // IoU as maskApi's bbIou: intersection over union, over the detection's area for crowds.
      else
        for (let dd = 0; dd < D; dd++) {
          const o = (d0 + dd) * 4;
          const dx = dBox[o];
          const dy = dBox[o + 1];
          const dw = dBox[o + 2];
          const dh = dBox[o + 3];
          const da = dw * dh;
          for (let gg = 0; gg < G; gg++) {
            const go = (g0 + gg) * 4;
            const gx = gBox[go];
            const gy = gBox[go + 1];
            const gw = gBox[go + 2];
            const gh = gBox[go + 3];
            let v = 0;
            const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
            if (w > 0) {
              const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
              if (h > 0) {
                const inter = w * h;
                v = inter / (gCrowd[g0 + gg] ? da : da + gw * gh - inter);
              }
            }
            scratchIou[dd * G + gg] = v;
          }
        }
      if (G === 0) {
        // No GT: every detection is a false positive unless its area is outside the range.
        for (let a = 0; a < A; a++) {
          const lo = areaLo[a];
          const hi = areaHi[a];
          for (let dd = 0; dd < D; dd++) {
            const area = dArea[d0 + dd];
            if (area < lo || area > hi) {
              const o = ((d0 + dd) * A + a) * W;
              for (let w = 0; w < W; w++) bits[o + w] = ignoredWord[w];
            }
          }
        }
        continue;
      }
      if (D > rowMax.length) rowMax = new Float64Array(D * 2);
      for (let dd = 0; dd < D; dd++) {
        let mx = Number.NEGATIVE_INFINITY;
        for (let gg = 0; gg < G; gg++) if (scratchIou[dd * G + gg] > mx) mx = scratchIou[dd * G + gg];
        rowMax[dd] = mx;
      }
      for (let a = 0; a < A; a++) {
        const lo = areaLo[a];
        const hi = areaHi[a];
        // Stable sort of GT: not ignored first.
        let n = 0;
        for (let gg = 0; gg < G; gg++) {
          const q = g0 + gg;
          if (!(gIgnore[q] || gArea[q] < lo || gArea[q] > hi)) {
            perm[n] = gg;
            gIgS[n++] = 0;
          }
        }
        npig[k * A + a] += n;
        for (let gg = 0; gg < G; gg++) {
          const q = g0 + gg;
          if (gIgnore[q] || gArea[q] < lo || gArea[q] > hi) {
            perm[n] = gg;
            gIgS[n++] = 1;
          }
        }
        for (let t = 0; t < T; t++) {
          for (let s = 0; s < G; s++) gtm[s] = 0;
          const word = (d0 * A + a) * W + (t >> 4);
          const shift = 2 * (t & 15);
          const thrT = thr[t];
          for (let dd = 0; dd < D; dd++) {
            // No GT reaches this threshold: unmatched, and nothing to update (most detections).
            if (rowMax[dd] < thrT) {
              const area = dArea[d0 + dd];
              if (area < lo || area > hi) bits[word + dd * A * W] |= IGNORED << shift;
              continue;
            }
            let iou = thrT;
            let m = -1;
            const row = dd * G;
            for (let s = 0; s < G; s++) {
              const gg = perm[s];
              if (gtm[s] && !gCrowd[g0 + gg]) continue;
              if (m > -1 && gIgS[m] === 0 && gIgS[s] === 1) break;
              const v = scratchIou[row + gg];
              if (v < iou) continue;
              iou = v;
              m = s;
            }
            const area = dArea[d0 + dd];
            const outside = area < lo || area > hi;
            let st: number;
            if (m === -1) st = outside ? IGNORED : FP;
            else {
              gtm[m] = 1;
              if (dtMatch && rec?.a === a && rec.t === t) dtMatch[d0 + dd] = g.order[g0 + perm[m]];
              if (gIgS[m]) st = IGNORED;
              // pycocotools marks a match with the GT's id, so a GT with id 0 reads as no match.
              else if (gIdZero[g0 + perm[m]]) st = outside ? IGNORED : FP;
              else st = TP;
            }
            bits[word + dd * A * W] |= st << shift;
          }
        }
      }
    }
  }
  return {
    K,
    I,
    numDets: ND,
    dtStart,
    dtScore,
    dtRank,
    dtIndex,
    gtStart: g.start,
    gtIndex: g.order,
    statusBits: bits,
    statusWords: W,
    npig,
    dtMatch,
  };
}

/** The status (FP, TP or IGNORED) of kept detection d at area range a and IoU threshold t. */
export function matchStatus(match: CocoMatchResult, A: number, a: number, t: number, d: number): number {
  const W = match.statusWords;
  return (match.statusBits[(d * A + a) * W + (t >> 4)] >> (2 * (t & 15))) & 3;
}
