/**
 * The one writer of detection results: COCO result records (pycocotools' loadRes format) and VOC
 * devkit lines (`comp4_det_test_<class>.txt`), used by evaluate-detector, the evaluator and the
 * server alike.
 */

/** What a result needs of a detection: resdet's box convention (see data/detection/types.ts). */
export interface ResultDetection {
  /** [x1, y1, x2, y2], 0-based, x2/y2 exclusive-style. */
  box: ArrayLike<number>;
  score: number;
  /** 0-based class index (the model's label minus one). */
  labelIndex: number;
}

/** One COCO result record: bbox [x, y, w, h] in pixels. */
export interface CocoResultRecord<Id extends number | string = number> {
  image_id: Id;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * A COCO record: coordinates rounded to 0.01 px and the score to 1e-5 (what detectron2 writes);
 * the category id from the dataset's own list when it has one (COCO's are not contiguous), else
 * the class index + 1.
 */
export function cocoResultRecord<Id extends number | string>(
  imageId: Id,
  d: ResultDetection,
  categoryIds?: readonly number[],
): CocoResultRecord<Id> {
  const b = d.box;
  return {
    image_id: imageId,
    category_id: categoryIds?.[d.labelIndex] ?? d.labelIndex + 1,
    bbox: [round2(b[0]), round2(b[1]), round2(b[2] - b[0]), round2(b[3] - b[1])],
    score: Math.round(d.score * 1e5) / 1e5,
  };
}

/** [xmin, ymin, xmax, ymax], 1-based inclusive, as the devkit reads it. */
export type DevkitBox = [number, number, number, number];

/**
 * A box in the devkit's convention: 1-based inclusive corners (xmin = x1 + 1, xmax = x2), as
 * detectron2 writes them. A box under one pixel would come out with xmax < xmin, which the devkit
 * format cannot hold; it becomes one pixel wide (it cannot match an object either way).
 */
export function devkitBox(b: ArrayLike<number>): DevkitBox {
  return [b[0] + 1, b[1] + 1, Math.max(b[2], b[0] + 1), Math.max(b[3], b[1] + 1)];
}

/** `<image_id> <score> <xmin> <ymin> <xmax> <ymax>` of a box already in devkit form. */
export function devkitLine(imageId: string, score: number, box: ArrayLike<number>): string {
  return `${imageId} ${score.toFixed(6)} ${Array.from(box, (v) => v.toFixed(1)).join(' ')}`;
}

/** The devkit line of a detection in resdet's box convention. */
export function devkitDetectionLine(imageId: string, d: Pick<ResultDetection, 'box' | 'score'>): string {
  return devkitLine(imageId, d.score, devkitBox(d.box));
}

/** The devkit's per-class result file name. */
export function devkitResultFileName(cls: string): string {
  return `comp4_det_test_${cls}.txt`;
}
