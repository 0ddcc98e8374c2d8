/** COCOeval's parameters for bbox, segm and keypoints, with the exact values numpy produces for them. */

/**
 * numpy.linspace(start, stop, num): i * step + start, with the last value set to `stop`. The
 * IoU thresholds this gives are not the decimal values (0.8999999999999999, not 0.9), and a
 * detection whose IoU equals a threshold exactly is matched or not depending on that.
 */
export function linspace(start: number, stop: number, num: number): number[] {
  const out: number[] = [];
  const div = num - 1;
  const step = (stop - start) / div;
  for (let i = 0; i < num; i++) out.push(i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

export interface AreaRange {
  label: string;
  range: readonly [number, number];
}

/** What COCOeval compares: boxes (IoU), masks (mask IoU on RLEs) or person keypoints (OKS). */
export type CocoIouType = 'bbox' | 'segm' | 'keypoints';
export const COCO_IOU_TYPES: readonly CocoIouType[] = ['bbox', 'segm', 'keypoints'];

/**
 * The COCO person keypoint sigmas (nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
 * ankles), divided by 10 as pycocotools' Params does; numpy divides each element by 10.0.
 */
export const COCO_KEYPOINT_SIGMAS: readonly number[] = [
  0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
].map((s) => s / 10.0);

export interface CocoEvalParams {
  iouThrs: readonly number[];
  recThrs: readonly number[];
  /** Detections kept per image and category, ascending; the last one bounds matching. */
  maxDets: readonly number[];
  areaRanges: readonly AreaRange[];
  /** OKS sigmas per keypoint (keypoints only). */
  kptOksSigmas: readonly number[];
}

export function defaultCocoParams(iouType: CocoIouType = 'bbox'): CocoEvalParams {
  const iouThrs = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
  const recThrs = linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1);
  if (iouType === 'keypoints')
    return {
      iouThrs,
      recThrs,
      maxDets: [20],
      areaRanges: [
        { label: 'all', range: [0, 1e5 ** 2] },
        { label: 'medium', range: [32 ** 2, 96 ** 2] },
        { label: 'large', range: [96 ** 2, 1e5 ** 2] },
      ],
      kptOksSigmas: COCO_KEYPOINT_SIGMAS,
    };
  return {
    iouThrs,
    recThrs,
    maxDets: [1, 10, 100],
    areaRanges: [
      { label: 'all', range: [0, 1e5 ** 2] },
      { label: 'small', range: [0, 32 ** 2] },
      { label: 'medium', range: [32 ** 2, 96 ** 2] },
      { label: 'large', range: [96 ** 2, 1e5 ** 2] },
    ],
    kptOksSigmas: COCO_KEYPOINT_SIGMAS,
  };
}
