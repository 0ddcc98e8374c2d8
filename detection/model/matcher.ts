/**
 * Assigns each predicted box (anchor or proposal) to a ground-truth box by IoU, as torchvision's
 * Matcher: the best GT when its IoU >= high, BELOW_LOW when < low, BETWEEN otherwise. With
 * `allowLowQuality`, every prediction that ties for a GT's best IoU is matched to its own best GT
 * even below `high`, so each GT gets at least one positive (the paper's rule for anchors).
 */

export const BELOW_LOW = -1;
export const BETWEEN = -2;

export interface MatcherOptions {
  high: number;
  low: number;
  allowLowQuality: boolean;
}

/**
 * `iou` is [G, P] row-major (row g = GT g against every prediction). Returns, per prediction, the
 * matched GT index or BELOW_LOW / BETWEEN. With no GT every prediction is BELOW_LOW (background).
 */
export function matchBoxes(
  iou: Float32Array,
  numGt: number,
  numPred: number,
  opts: MatcherOptions,
): Int32Array {
  const matches = new Int32Array(numPred).fill(BELOW_LOW);
  if (numGt === 0 || numPred === 0) return matches;
  const best = new Float32Array(numPred).fill(-1);
  const bestGt = new Int32Array(numPred);
  for (let g = 0; g < numGt; g++) {
    const row = g * numPred;
    for (let p = 0; p < numPred; p++) {
      // Strictly greater: the first GT wins ties, as torch's max over dim 0.
      if (iou[row + p] > best[p]) {
        best[p] = iou[row + p];
        bestGt[p] = g;
      }
    }
  }
  for (let p = 0; p < numPred; p++) {
    if (best[p] >= opts.high) matches[p] = bestGt[p];
    else if (best[p] < opts.low) matches[p] = BELOW_LOW;
    else matches[p] = BETWEEN;
  }
  if (opts.allowLowQuality) {
    for (let g = 0; g < numGt; g++) {
      const row = g * numPred;
      let top = 0;
      for (let p = 0; p < numPred; p++) if (iou[row + p] > top) top = iou[row + p];
      // A GT that overlaps nothing gets no forced match (IoU 0 is no evidence).
      if (top <= 0) continue;
      for (let p = 0; p < numPred; p++) if (iou[row + p] === top) matches[p] = bestGt[p];
    }
  }
  return matches;
}
