import type { Detection } from './services.js';

/** One COCO result record, as pycocotools' loadRes and `resdet eval coco --dt` read them. */
export interface CocoResult {
  image_id: number | string;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/**
 * COCO result records: bbox as [x, y, w, h] in pixels, category id from the dataset's own id list
 * when the model has one (COCO's ids are not contiguous), otherwise class index + 1.
 */
export function toCocoResults(
  detections: readonly Detection[],
  imageId: number | string,
  categoryIds?: readonly number[],
): CocoResult[] {
  return detections.map((d) => {
    const [x1, y1, x2, y2] = d.box;
    const categoryId = categoryIds?.[d.labelIndex] ?? d.labelIndex + 1;
    return {
      image_id: imageId,
      category_id: categoryId,
      bbox: [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
      score: round(d.score, 5),
    };
  });
}

/**
 * VOC devkit result lines, grouped by class: each line `<image_id> <score> <xmin> <ymin> <xmax> <ymax>`
 * belongs in that class's `comp4_det_test_<class>.txt`. The devkit counts pixels from 1, so the
 * left/top edges move by +1 (as py-faster-rcnn and detectron2 write them).
 */
export function toVocLines(detections: readonly Detection[], imageId: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of detections) {
    const [x1, y1, x2, y2] = d.box;
    const line = `${imageId} ${d.score.toFixed(6)} ${(x1 + 1).toFixed(1)} ${(y1 + 1).toFixed(1)} ${x2.toFixed(1)} ${y2.toFixed(1)}`;
    if (!out[d.label]) out[d.label] = [];
    out[d.label].push(line);
  }
  return out;
}
