import type { ScheduleSpec } from '../../core/train/schedule.js';

/** The detector's schedule as the trainer options give it (detectron2's WarmupMultiStepLR). */
export interface DetectorScheduleOptions {
  baseLr: number;
  warmupIters: number;
  warmupFactor: number;
  steps: number[];
  gamma: number;
}

/** Steps at 2/3 and 8/9 of the run (detectron2's VOC schedule: 12k and 16k of 18k). */
export function defaultSteps(iterations: number): number[] {
  return [Math.round((iterations * 2) / 3), Math.round((iterations * 8) / 9)];
}

/**
 * Linear warm-up from `warmupFactor` x base over `warmupIters`, then x`gamma` at each step, in
 * core/train's schedule family; the warm-up keeps detectron2's rounding of the line.
 */
export function detectorSchedule(o: DetectorScheduleOptions): ScheduleSpec {
  return {
    baseLr: o.baseLr,
    decay: { kind: 'steps', milestones: [...o.steps], gamma: o.gamma },
    warmup:
      o.warmupIters > 0
        ? { kind: 'linear', iterations: o.warmupIters, startFactor: o.warmupFactor, form: 'detectron2' }
        : { kind: 'none' },
  };
}

/**
 * A checkpoint's `training.schedule`: core/train's ScheduleSpec, or the detector trainer's own
 * form from before core/train ({baseLr, warmupIters, warmupFactor, steps, gamma}).
 */
export function storedDetectorSchedule(stored: unknown): ScheduleSpec | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  if ('decay' in stored && 'warmup' in stored) return stored as ScheduleSpec;
  if ('warmupIters' in stored) return detectorSchedule(stored as DetectorScheduleOptions);
  return undefined;
}

/** `schedule` fitted to a run of `total` iterations: steps at 2/3 and 8/9, a warm-up of at most total/5. */
export function fitDetectorSchedule(schedule: ScheduleSpec, total: number): ScheduleSpec {
  const w = schedule.warmup;
  return {
    ...schedule,
    decay:
      schedule.decay.kind === 'steps'
        ? { ...schedule.decay, milestones: defaultSteps(total) }
        : schedule.decay,
    warmup:
      w.kind === 'linear' || w.kind === 'constant'
        ? { ...w, iterations: Math.min(w.iterations, Math.floor(total / 5)) }
        : w,
  };
}
