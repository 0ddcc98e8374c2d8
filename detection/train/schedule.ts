/**
 * Learning-rate schedule: linear warm-up from `warmupFactor * baseLr` over `warmupIters`, then
 * multiplied by `gamma` at each of `steps` (detectron2's WarmupMultiStepLR).
 */
export interface LrSchedule {
  baseLr: number;
  warmupIters: number;
  warmupFactor: number;
  steps: number[];
  gamma: number;
}

export function learningRate(s: LrSchedule, iteration: number): number {
  let lr = s.baseLr;
  for (const step of s.steps) if (iteration >= step) lr *= s.gamma;
  if (iteration < s.warmupIters) {
    const alpha = iteration / s.warmupIters;
    lr *= s.warmupFactor * (1 - alpha) + alpha;
  }
  return lr;
}

/** Steps at 2/3 and 8/9 of the run (detectron2's VOC schedule: 12k and 16k of 18k). */
export function defaultSteps(iterations: number): number[] {
  return [Math.round((iterations * 2) / 3), Math.round((iterations * 8) / 9)];
}
