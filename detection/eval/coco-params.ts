/** COCOeval's bbox parameters, with the exact values numpy produces for them. */

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

export interface CocoEvalParams {
  iouThrs: readonly number[];
  recThrs: readonly number[];
  /** Detections kept per image and category, ascending; the last one bounds matching. */
  maxDets: readonly number[];
  areaRanges: readonly AreaRange[];
}

export function defaultCocoParams(): CocoEvalParams {
  return {
    iouThrs: linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1),
    recThrs: linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1),
    maxDets: [1, 10, 100],
    areaRanges: [
      { label: 'all', range: [0, 1e5 ** 2] },
      { label: 'small', range: [0, 32 ** 2] },
      { label: 'medium', range: [32 ** 2, 96 ** 2] },
      { label: 'large', range: [96 ** 2, 1e5 ** 2] },
    ],
  };
}
