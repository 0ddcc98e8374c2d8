/**
 * COCOeval.accumulate: per (category, area, maxDets) the kept detections of all images, ranked
 * by score with numpy's stable mergesort (ties keep image order, then per-image order),
 * cumulative TP/FP, the precision envelope and its value at each recall threshold.
 */
import { type CocoMatchResult, IGNORED, TP } from './coco-match.js';
import type { CocoEvalParams } from './coco-params.js';

export interface CocoAccumulated {
  /** precision[(((t * R + r) * K + k) * A + a) * M + m]; -1 where the category has no GT. */
  precision: Float64Array;
  /** recall[((t * K + k) * A + a) * M + m]; -1 where the category has no GT. */
  recall: Float64Array;
  shape: { T: number; R: number; K: number; A: number; M: number };
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

export function accumulateCoco(match: CocoMatchResult, p: CocoEvalParams): CocoAccumulated {
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const A = p.areaRanges.length;
  const M = p.maxDets.length;
  const { K, I, dtStart, dtScore, dtRank, statusBits: bits, statusWords: W, npig } = match;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const recThrs = Float64Array.from(p.recThrs);

  let order = new Int32Array(1024);
  let kept = new Int32Array(1024);
  let pr = new Float64Array(1024);
  let sortBuf = sortBuffers(1024);
  const tpAt = new Int32Array(T);
  const fpAt = new Int32Array(T);
  for (let k = 0; k < K; k++) {
    const lo = dtStart[k * I];
    const hi = dtStart[(k + 1) * I];
    const n = hi - lo;
    if (n > order.length) {
      order = new Int32Array(n * 2);
      kept = new Int32Array(n * 2);
    }
    // Kept detections of category k are contiguous, in image order then per-image score order;
    // a stable sort by descending score over that sequence is numpy's mergesort on -score.
    if (n > sortBuf.key.length) sortBuf = sortBuffers(n * 2);
    stableSortByScoreDesc(order, n, dtScore.subarray(lo, hi), sortBuf);
    // Thresholds in the blocks of 16 of statusBits (the default 10 are one block): a pass
    // reads one word per detection.
    for (let b = 0; b < W; b++) {
      const t0 = 16 * b;
      const t1 = Math.min(T, t0 + 16);
      let allIgnored = 0;
      for (let t = t0; t < t1; t++) allIgnored |= IGNORED << (2 * (t - t0));

      for (let m = 0; m < M; m++) {
        // The top maxDet of each image, still in ranked order.
        const maxDet = p.maxDets[m];
        let nm = 0;
        for (let j = 0; j < n; j++) if (dtRank[lo + order[j]] < maxDet) kept[nm++] = order[j];
        for (let a = 0; a < A; a++) {
          const np = npig[k * A + a];
          if (np === 0) continue;
          if (T * np > pr.length) pr = new Float64Array(T * np * 2);
          // pycocotools builds recall and precision after every detection, takes the envelope
          // from the right and reads it at the first index with recall >= each threshold. That
          // index is always a true positive (or the start), precision only falls at false
          // positives, and ignored detections change nothing, so the same numbers follow from
          // the precision at each true positive: pr[t * np + i] for the (i+1)-th TP at t.
          // A detection false at every threshold (most) counts once in fpAll; ignored at every
          // threshold, it changes nothing.
          tpAt.fill(0);
          fpAt.fill(0);
          let fpAll = 0;
          const at0 = (lo * A + a) * W + b;
          const stride = A * W;
          for (let j = 0; j < nm; j++) {
            const w = bits[at0 + kept[j] * stride];
            if (w === 0) fpAll++;
            else if (w !== allIgnored)
              for (let t = t0; t < t1; t++) {
                const s = (w >> (2 * (t - t0))) & 3;
                if (s === TP) {
                  const tp = ++tpAt[t];
                  pr[t * np + tp - 1] = tp / (fpAll + fpAt[t] + tp + EPS);
                } else if (s !== IGNORED) fpAt[t]++;
              }
          }
          for (let t = t0; t < t1; t++) {
            const tp = tpAt[t];
            const at = t * np;
            recall[((t * K + k) * A + a) * M + m] = tp / np;
            for (let j = tp - 1; j > 0; j--) if (pr[at + j] > pr[at + j - 1]) pr[at + j - 1] = pr[at + j];
            // searchsorted(rc, recThrs, side='left'); thresholds past the last recall stay 0.
            let idx = 0;
            for (let r = 0; r < R; r++) {
              const thr = recThrs[r];
              while (idx < tp && (idx + 1) / np < thr) idx++;
              precision[(((t * R + r) * K + k) * A + a) * M + m] = idx < tp ? pr[at + idx] : 0;
            }
          }
        }
      }
    }
  }
  return { precision, recall, shape: { T, R, K, A, M } };
}

/** Buffers of the merge sort: keys and indices, and their merge targets. */
interface SortBuffers {
  key: Float64Array;
  idx: Int32Array;
  key2: Float64Array;
  idx2: Int32Array;
}

function sortBuffers(n: number): SortBuffers {
  return {
    key: new Float64Array(n),
    idx: new Int32Array(n),
    key2: new Float64Array(n),
    idx2: new Int32Array(n),
  };
}

/**
 * Stable merge sort of 0..n-1 by descending score[i] (equal scores keep index order) into
 * order[0, n). The scores move with the indices, so comparisons read no second array.
 */
function stableSortByScoreDesc(order: Int32Array, n: number, score: Float64Array, b: SortBuffers): void {
  let key = b.key;
  let idx = b.idx;
  let key2 = b.key2;
  let idx2 = b.idx2;
  const RUN = 16;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(n, lo + RUN);
    for (let i = lo; i < hi; i++) {
      const sv = score[i];
      let j = i - 1;
      while (j >= lo && key[j] < sv) {
        key[j + 1] = key[j];
        idx[j + 1] = idx[j];
        j--;
      }
      key[j + 1] = sv;
      idx[j + 1] = i;
    }
  }
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      if (mid >= hi || key[mid - 1] >= key[mid]) {
        // Already in order: copy.
        key2.set(key.subarray(lo, hi), lo);
        idx2.set(idx.subarray(lo, hi), lo);
        continue;
      }
      let i = lo;
      let j = mid;
      let o = lo;
      while (i < mid && j < hi) {
        if (key[j] > key[i]) {
          key2[o] = key[j];
          idx2[o++] = idx[j++];
        } else {
          key2[o] = key[i];
          idx2[o++] = idx[i++];
        }
      }
      for (; i < mid; i++, o++) {
        key2[o] = key[i];
        idx2[o] = idx[i];
      }
      for (; j < hi; j++, o++) {
        key2[o] = key[j];
        idx2[o] = idx[j];
      }
    }
    [key, key2] = [key2, key];
    [idx, idx2] = [idx2, idx];
  }
  order.set(idx.subarray(0, n));
}
