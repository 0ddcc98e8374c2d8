/**
 * The two comparisons COCOeval swaps in for box IoU: mask IoU on RLEs (computeIoU for segm,
 * maskApi rleIou) and object keypoint similarity (computeOks). The arithmetic follows numpy's
 * order of operations, its pairwise summation included, so ties and thresholds fall as there.
 */
import { bboxIou, type Rle, rleAreaCached, rleBoxCached, rlePairIou } from '../../data/coco/mask.js';
import type { CocoAnnotation } from '../../data/coco/types.js';
import type { CocoSimilarity } from './coco-match.js';

/** Mask IoU; crowd GT: intersection over the detection's area (maskApi rleIou). */
export function maskSimilarity(
  gtMasks: ReadonlyArray<Rle | undefined>,
  gtCrowd: Uint8Array,
  dtMasks: readonly Rle[],
): CocoSimilarity {
  return {
    fill(out, dIdx, gIdx) {
      const G = gIdx.length;
      for (let dd = 0; dd < dIdx.length; dd++) {
        const d = dtMasks[dIdx[dd]];
        const dBox = rleBoxCached(d);
        const dArea = rleAreaCached(d);
        for (let gg = 0; gg < G; gg++) {
          const q = gIdx[gg];
          const g = gtMasks[q] as Rle;
          out[dd * G + gg] = rlePairIou(d, g, gtCrowd[q] === 1, dBox, rleBoxCached(g), dArea);
        }
      }
    },
  };
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

/** numpy's pairwise sum (add.reduce) for up to 128 values: 8 partial sums, then a tree. */
function numpySum(a: Float64Array, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[i];
    return res;
  }
  let r0 = a[0];
  let r1 = a[1];
  let r2 = a[2];
  let r3 = a[3];
  let r4 = a[4];
  let r5 = a[5];
  let r6 = a[6];
  let r7 = a[7];
  let i = 8;
  for (; i < n - (n % 8); i += 8) {
    r0 += a[i];
    r1 += a[i + 1];
    r2 += a[i + 2];
    r3 += a[i + 3];
    r4 += a[i + 4];
    r5 += a[i + 5];
    r6 += a[i + 6];
    r7 += a[i + 7];
  }
  let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
  for (; i < n; i++) res += a[i];
  return res;
}

/**
 * OKS of each detection with each GT: per labeled GT keypoint (v > 0)
 * exp(-d² / (2σ)² / (area + eps) / 2), averaged; a GT without labeled keypoints measures the
 * distance to its box doubled on every side and averages over all keypoints.
 */
export function oksSimilarity(
  gts: readonly CocoAnnotation[],
  gtKeypoints: ReadonlyArray<Float64Array | undefined>,
  dtKeypoints: Float64Array,
  sigmas: readonly number[],
): CocoSimilarity {
  const K = sigmas.length;
  const vars = sigmas.map((s) => s * 2 * (s * 2));
  const e = new Float64Array(K);
  return {
    fill(out, dIdx, gIdx) {
      const G = gIdx.length;
      for (let gg = 0; gg < G; gg++) {
        const q = gIdx[gg];
        const g = gtKeypoints[q] as Float64Array;
        const gt = gts[q];
        let k1 = 0;
        for (let k = 0; k < K; k++) if (g[k * 3 + 2] > 0) k1++;
        const [bx, by, bw, bh] = gt.bbox;
        const x0 = bx - bw;
        const x1 = bx + bw * 2;
        const y0 = by - bh;
        const y1 = by + bh * 2;
        const area = gt.area + EPS;
        for (let dd = 0; dd < dIdx.length; dd++) {
          const o = dIdx[dd] * 3 * K;
          let n = 0;
          for (let k = 0; k < K; k++) {
            const xd = dtKeypoints[o + k * 3];
            const yd = dtKeypoints[o + k * 3 + 1];
            let dx: number;
            let dy: number;
            if (k1 > 0) {
              if (!(g[k * 3 + 2] > 0)) continue;
              dx = xd - g[k * 3];
              dy = yd - g[k * 3 + 1];
            } else {
              dx = Math.max(0, x0 - xd) + Math.max(0, xd - x1);
              dy = Math.max(0, y0 - yd) + Math.max(0, yd - y1);
            }
            e[n++] = Math.exp(-((dx * dx + dy * dy) / vars[k] / area / 2));
          }
          out[dd * G + gg] = numpySum(e, n) / n;
        }
      }
    },
  };
}

/** Box IoU (maskApi bbIou) as a CocoSimilarity, for comparisons across categories. */
export function boxSimilarity(gts: readonly CocoAnnotation[], dtBbox: Float64Array): CocoSimilarity {
  return {
    fill(out, dIdx, gIdx) {
      const G = gIdx.length;
      for (let dd = 0; dd < dIdx.length; dd++)
        for (let gg = 0; gg < G; gg++) {
          const g = gts[gIdx[gg]];
          out[dd * G + gg] = bboxIou(dtBbox, g.bbox, Boolean(g.iscrowd), dIdx[dd] * 4, 0);
        }
    },
  };
}
