import * as tf from '@tensorflow/tfjs';

/**
 * Boxes are (x1, y1, x2, y2) in pixels, widths x2 - x1 (no +1), as torchvision. Internally a set of
 * N boxes is one flat Float32Array of 4N numbers: the detector's proposal and NMS code works on
 * typed arrays because a few thousand boxes are far cheaper in plain JS than as many tensor ops.
 */
export type BoxesLike = ArrayLike<ArrayLike<number>> | Float32Array | tf.Tensor;

/** Flat float32 copy (or view, for a Float32Array) of boxes given in any accepted form. */
export function toFlatBoxes(boxes: BoxesLike, name = 'boxes', columns = 4): Float32Array {
  if (boxes instanceof tf.Tensor) {
    if (boxes.rank !== 2 || boxes.shape[1] !== columns)
      throw new Error(`${name}: expected a [N, ${columns}] tensor, got shape [${boxes.shape.join(', ')}]`);
    return boxes.dataSync() as Float32Array;
  }
  if (boxes instanceof Float32Array) {
    if (boxes.length % columns !== 0)
      throw new Error(`${name}: flat array length ${boxes.length} is not a multiple of ${columns}`);
    return boxes;
  }
  const n = boxes.length;
  const out = new Float32Array(n * columns);
  for (let i = 0; i < n; i++) {
    const row = boxes[i];
    if (row.length !== columns)
      throw new Error(`${name}[${i}]: expected ${columns} numbers, got ${row.length}`);
    for (let j = 0; j < columns; j++) out[i * columns + j] = row[j];
  }
  return out;
}

/** Flat float32 values from a number list, typed array or 1-D tensor. */
export function toFlatValues(values: ArrayLike<number> | tf.Tensor, name = 'values'): Float32Array {
  if (values instanceof tf.Tensor) {
    if (values.rank !== 1) throw new Error(`${name}: expected a 1-D tensor, got rank ${values.rank}`);
    return values.dataSync() as Float32Array;
  }
  if (values instanceof Float32Array) return values;
  return Float32Array.from(values);
}

/**
 * Rows of `columns` numbers as nested arrays (the fixtures' and JSON's form). `rowCount` is needed
 * only when `columns` is 0 (an [N, 0] IoU matrix is N empty rows, as torchvision's tolist()).
 */
export function toNested(flat: ArrayLike<number>, columns: number, rowCount?: number): number[][] {
  const n = rowCount ?? (columns > 0 ? flat.length / columns : 0);
  const rows: number[][] = [];
  for (let r = 0; r < n; r++) {
    const row: number[] = new Array(columns);
    for (let j = 0; j < columns; j++) row[j] = flat[r * columns + j];
    rows.push(row);
  }
  return rows;
}

/**
 * Gives the result in the caller's form: a tensor for tensor input, a flat Float32Array for flat
 * input, nested arrays otherwise.
 */
export function likeInput<T extends BoxesLike>(input: T, flat: Float32Array, columns: number): T {
  if (input instanceof tf.Tensor) return tf.tensor2d(flat, [flat.length / columns, columns]) as T;
  if (input instanceof Float32Array) return flat as T;
  return toNested(flat, columns) as unknown as T;
}

/** Box areas (x2 - x1) * (y2 - y1) in float32, as torchvision's box_area. */
export function boxAreas(boxes: Float32Array): Float32Array {
  const n = boxes.length / 4;
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = 4 * i;
    areas[i] = Math.fround(boxes[k + 2] - boxes[k]) * Math.fround(boxes[k + 3] - boxes[k + 1]);
  }
  return areas;
}

/** Pairwise IoU [N, M] as a flat row-major Float32Array (row i = a[i]). */
export function boxIouFlat(a: Float32Array, b: Float32Array): Float32Array {
  const n = a.length / 4;
  const m = b.length / 4;
  const areaA = boxAreas(a);
  const areaB = boxAreas(b);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ax1 = a[4 * i];
    const ay1 = a[4 * i + 1];
    const ax2 = a[4 * i + 2];
    const ay2 = a[4 * i + 3];
    const aa = areaA[i];
    for (let j = 0; j < m; j++) {
      const w = Math.fround(Math.min(ax2, b[4 * j + 2]) - Math.max(ax1, b[4 * j]));
      const h = Math.fround(Math.min(ay2, b[4 * j + 3]) - Math.max(ay1, b[4 * j + 1]));
      if (w <= 0 || h <= 0) continue;
      const inter = Math.fround(w * h);
      const union = Math.fround(Math.fround(aa + areaB[j]) - inter);
      // A degenerate pair (both zero-area) has union 0: IoU 0 rather than NaN.
      out[i * m + j] = union > 0 ? Math.fround(inter / union) : 0;
    }
  }
  return out;
}

/**
 * torchvision.ops.box_iou: IoU of every box in `boxes1` with every box in `boxes2`, [N, M].
 * Nested arrays in give nested arrays out; a tensor gives a tensor; flat Float32Arrays a flat
 * row-major Float32Array.
 */
export function boxIou(boxes1: tf.Tensor, boxes2: BoxesLike): tf.Tensor2D;
export function boxIou(boxes1: Float32Array, boxes2: BoxesLike): Float32Array;
export function boxIou(boxes1: ArrayLike<ArrayLike<number>>, boxes2: BoxesLike): number[][];
export function boxIou(boxes1: BoxesLike, boxes2: BoxesLike): number[][] | Float32Array | tf.Tensor2D {
  const a = toFlatBoxes(boxes1, 'boxes1');
  const b = toFlatBoxes(boxes2, 'boxes2');
  const iou = boxIouFlat(a, b);
  const m = b.length / 4;
  if (boxes1 instanceof tf.Tensor) return tf.tensor2d(iou, [a.length / 4, m]);
  if (boxes1 instanceof Float32Array) return iou;
  return toNested(iou, m, a.length / 4);
}

/** Clips boxes in place to [0, width] x [0, height]. */
export function clipBoxesInPlace(boxes: Float32Array, height: number, width: number): Float32Array {
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = Math.min(Math.max(boxes[i], 0), width);
    boxes[i + 1] = Math.min(Math.max(boxes[i + 1], 0), height);
    boxes[i + 2] = Math.min(Math.max(boxes[i + 2], 0), width);
    boxes[i + 3] = Math.min(Math.max(boxes[i + 3], 0), height);
  }
  return boxes;
}

/** Indices of boxes whose width and height are both >= minSize (torchvision's remove_small_boxes). */
export function keepLargeBoxes(boxes: Float32Array, minSize: number): number[] {
  const keep: number[] = [];
  for (let i = 0, k = 0; k < boxes.length; i++, k += 4) {
    const w = boxes[k + 2] - boxes[k];
    const h = boxes[k + 3] - boxes[k + 1];
    if (w >= minSize && h >= minSize) keep.push(i);
  }
  return keep;
}

/** Rows `indices` of a flat array with `columns` numbers per row. */
export function gatherRows(flat: Float32Array, indices: ArrayLike<number>, columns = 4): Float32Array {
  const out = new Float32Array(indices.length * columns);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i] * columns;
    for (let j = 0; j < columns; j++) out[i * columns + j] = flat[src + j];
  }
  return out;
}
