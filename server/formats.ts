import { type CocoResultRecord, cocoResultRecord, devkitDetectionLine } from '../data/formats/results.js';
import type { Detection } from './services.js';

/** One COCO result record, as pycocotools' loadRes and `resdet eval coco --dt` read them. */
export type CocoResult = CocoResultRecord<number | string>;

/**
 * COCO result records of one image (data/formats/results.ts: bbox [x, y, w, h] in pixels, the
 * category id from the model's dataset id list when it has one, otherwise class index + 1).
 */
export function toCocoResults(
  detections: readonly Detection[],
  imageId: number | string,
  categoryIds?: readonly number[],
): CocoResult[] {
  return detections.map((d) => cocoResultRecord<number | string>(imageId, d, categoryIds));
}

/**
 * VOC devkit result lines, grouped by class: each line `<image_id> <score> <xmin> <ymin> <xmax> <ymax>`
 * belongs in that class's `comp4_det_test_<class>.txt`, written as evaluate-detector writes them
 * (data/formats/results.ts: 1-based corners, a box under one pixel widened to one).
 */
export function toVocLines(detections: readonly Detection[], imageId: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of detections) {
    if (!out[d.label]) out[d.label] = [];
    out[d.label].push(devkitDetectionLine(imageId, d));
  }
  return out;
}
