import * as tf from '@tensorflow/tfjs';
import { boxAreas, type BoxesLike, toFlatBoxes, toFlatValues } from './boxes.js';
import { stdSort } from './std-sort.js';

/**
 * Indices 0..n-1 ordered by descending score, equal scores lower index first: torchvision's CPU
 * NMS kernel sorts stably, and which of two tied duplicates survives depends on it.
 */
export function argsortDescending(scores: ArrayLike<number>, indices?: number[]): number[] {
  const order = indices ? indices.slice() : Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    if (sa > sb) return -1;
    if (sb > sa) return 1;
    // torch sorts NaN as the largest value
    const nanA = Number.isNaN(sa);
    if (nanA !== Number.isNaN(sb)) return nanA ? -1 : 1;
    return a - b;
  });
  return order;
}

/**
 * Greedy NMS on flat float32 boxes, optionally restricted to `candidates` (indices into boxes).
 * Returns kept indices in visit order. IoU is computed in float32 exactly as torchvision's kernel,
 * (inter / (area_i + area_j - inter)), and a box is suppressed only when IoU > threshold.
 */
export function nmsFlat(
  boxes: Float32Array,
  scores: ArrayLike<number>,
  iouThreshold: number,
  candidates?: number[],
): number[] {
  const order = argsortDescending(scores, candidates);
  const areas = boxAreas(boxes);
  const suppressed = new Uint8Array(boxes.length / 4);
  const keep: number[] = [];
  for (let oi = 0; oi < order.length; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    keep.push(i);
    const ix1 = boxes[4 * i];
    const iy1 = boxes[4 * i + 1];
    const ix2 = boxes[4 * i + 2];
    const iy2 = boxes[4 * i + 3];
    const iarea = areas[i];
    for (let oj = oi + 1; oj < order.length; oj++) {
      const j = order[oj];
      if (suppressed[j]) continue;
      const w = Math.max(0, Math.fround(Math.min(ix2, boxes[4 * j + 2]) - Math.max(ix1, boxes[4 * j])));
      const h = Math.max(0, Math.fround(Math.min(iy2, boxes[4 * j + 3]) - Math.max(iy1, boxes[4 * j + 1])));
      const inter = Math.fround(w * h);
      const ovr = Math.fround(inter / Math.fround(Math.fround(iarea + areas[j]) - inter));
      if (ovr > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}

/**
 * torchvision.ops.nms(boxes, scores, iou_threshold): indices of the kept boxes, highest score
 * first (ties: lower index first).
 */
export function nms(boxes: BoxesLike, scores: ArrayLike<number> | tf.Tensor, iouThreshold: number): number[] {
  const flat = toFlatBoxes(boxes);
  const s = toFlatValues(scores, 'scores');
  if (s.length * 4 !== flat.length) throw new Error(`nms: ${flat.length / 4} boxes but ${s.length} scores`);
  return nmsFlat(flat, s, iouThreshold);
}

/** Above this many coordinates torchvision's CPU batched_nms runs NMS per class instead of offsetting. */
const OFFSET_PATH_MAX_NUMEL = 4000;

/**
 * torchvision.ops.batched_nms(boxes, scores, idxs, iou_threshold): NMS within each category of
 * `idxs`; kept indices sorted by descending score. Both of torchvision's CPU code paths are
 * reproduced (coordinate offsets for small inputs, per-class NMS for large ones), since the offset
 * changes float32 rounding of the IoUs.
 */
export function batchedNms(
  boxes: BoxesLike,
  scores: ArrayLike<number> | tf.Tensor,
  idxs: ArrayLike<number> | tf.Tensor,
  iouThreshold: number,
): number[] {
  const flat = toFlatBoxes(boxes);
  const s = toFlatValues(scores, 'scores');
  const cls = toClassIds(idxs);
  const n = s.length;
  if (n * 4 !== flat.length || cls.length !== n)
    throw new Error(`batchedNms: ${flat.length / 4} boxes, ${n} scores and ${cls.length} idxs must match`);
  if (n === 0) return [];
  if (flat.length <= OFFSET_PATH_MAX_NUMEL) {
    let maxCoord = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < flat.length; i++) if (flat[i] > maxCoord) maxCoord = flat[i];
    const step = Math.fround(maxCoord + 1);
    const shifted = new Float32Array(flat.length);
    for (let i = 0; i < n; i++) {
      // torchvision converts idxs to the boxes' float32 here (idxs.to(boxes)), on this path only.
      const offset = Math.fround(Math.fround(cls[i]) * step);
      for (let j = 0; j < 4; j++) shifted[4 * i + j] = flat[4 * i + j] + offset;
    }
    return nmsFlat(shifted, s, iouThreshold);
  }
  return batchedNmsPerClass(flat, s, cls, iouThreshold);
}

/**
 * Class ids as exact numbers: the per-class path groups by torchvision's int64 ids, so ids above
 * 2^24 that float32 would merge stay apart.
 */
function toClassIds(idxs: ArrayLike<number> | tf.Tensor): ArrayLike<number> {
  if (!(idxs instanceof tf.Tensor)) return idxs;
  if (idxs.rank !== 1) throw new Error(`idxs: expected a 1-D tensor, got rank ${idxs.rank}`);
  return idxs.dataSync();
}

/**
 * torchvision's large-input path: NMS per class, then the kept indices, in ascending order, are
 * sorted by `scores[keep].sort(descending=True)`, an unstable std::sort on CPU. Tied scores come out
 * in that sort's own deterministic order (not by index), which stdSort reproduces.
 */
export function batchedNmsPerClass(
  boxes: Float32Array,
  scores: ArrayLike<number>,
  idxs: ArrayLike<number>,
  iouThreshold: number,
): number[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < scores.length; i++) {
    const list = groups.get(idxs[i]);
    if (list) list.push(i);
    else groups.set(idxs[i], [i]);
  }
  const keepMask = new Uint8Array(scores.length);
  for (const members of groups.values())
    for (const i of nmsFlat(boxes, scores, iouThreshold, members)) keepMask[i] = 1;
  const kept: number[] = [];
  for (let i = 0; i < keepMask.length; i++) if (keepMask[i]) kept.push(i);
  // torch's KeyValueCompDesc: NaN first, then larger values first.
  return stdSort(
    kept,
    (a, b) => (Number.isNaN(scores[a]) && !Number.isNaN(scores[b])) || scores[a] > scores[b],
  );
}
