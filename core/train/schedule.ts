/**
 * Learning-rate schedules, for every training task (classifier pretraining, detector training).
 * A schedule is a pure function of (iteration, state) so a resumed run
 * gets the same rate as an uninterrupted one; the only adaptive parts (plateau decay, the
 * ResNet-110 warm-up that ends when training error drops below 80%) keep their decisions in
 * `ScheduleState`, which the checkpoint stores.
 */

export type DecayRule =
  /** Multiply by `gamma` at each milestone iteration (the paper's CIFAR recipe: 32k, 48k). */
  | { kind: 'steps'; milestones: number[]; gamma: number }
  /** Half-cosine from the base rate down to `minFactor` x base over the run (short runs). */
  | { kind: 'cosine'; minFactor: number }
  /** Divide by 10 when validation error has not improved for `patience` epochs (paper §3.4). */
  | { kind: 'plateau'; gamma: number; patience: number; threshold: number }
  | { kind: 'constant' };

export type WarmupRule =
  | { kind: 'none' }
  /**
   * Linear from `startFactor` x base to base over `iterations`. `form` names how the factor is
   * rounded: `lerp` (startFactor + (1 - startFactor) t, the default) or `detectron2`
   * (startFactor (1 - t) + t, which detector checkpoints from before core/train/ used; kept so
   * they resume bit-identically).
   */
  | { kind: 'linear'; iterations: number; startFactor: number; form?: 'lerp' | 'detectron2' }
  /** `startFactor` x base for the first `iterations` (detectron2's constant warm-up). */
  | { kind: 'constant'; iterations: number; startFactor: number }
  /** ResNet-110 (paper §4.2): a fixed low rate until training error falls below `errorBelow`. */
  | { kind: 'until-error'; lr: number; errorBelow: number; maxIterations: number };

export interface ScheduleSpec {
  baseLr: number;
  decay: DecayRule;
  warmup: WarmupRule;
}

export interface ScheduleState {
  /** Iteration the adaptive warm-up ended at (null while it lasts). */
  warmupEndedAt: number | null;
  /** How many plateau decays happened. */
  plateauDecays: number;
  bestValError: number | null;
  epochsSinceBest: number;
}

export function initialScheduleState(): ScheduleState {
  return { warmupEndedAt: null, plateauDecays: 0, bestValError: null, epochsSinceBest: 0 };
}

/** The rate for `iteration` (0-based) of a run of `total` iterations. */
export function learningRate(
  spec: ScheduleSpec,
  state: ScheduleState,
  iteration: number,
  total: number,
): number {
  const w = spec.warmup;
  if (w.kind === 'until-error' && state.warmupEndedAt === null && iteration < w.maxIterations) return w.lr;
  let lr = spec.baseLr;
  const d = spec.decay;
  if (d.kind === 'steps') {
    for (const m of d.milestones) if (iteration >= m) lr *= d.gamma;
  } else if (d.kind === 'cosine') {
    const t = Math.min(1, iteration / Math.max(1, total));
    lr *= d.minFactor + (1 - d.minFactor) * 0.5 * (1 + Math.cos(Math.PI * t));
  } else if (d.kind === 'plateau') {
    lr *= d.gamma ** state.plateauDecays;
  }
  if (w.kind === 'linear' && iteration < w.iterations) {
    const t = iteration / w.iterations;
    lr *= w.form === 'detectron2' ? w.startFactor * (1 - t) + t : w.startFactor + (1 - w.startFactor) * t;
  } else if (w.kind === 'constant' && iteration < w.iterations) {
    lr *= w.startFactor;
  }
  return lr;
}

/** Called with the running training error; ends the adaptive warm-up once it is low enough. */
export function observeTrainError(
  spec: ScheduleSpec,
  state: ScheduleState,
  iteration: number,
  error: number,
): boolean {
  const w = spec.warmup;
  if (w.kind !== 'until-error' || state.warmupEndedAt !== null) return false;
  if (error < w.errorBelow || iteration + 1 >= w.maxIterations) {
    state.warmupEndedAt = iteration + 1;
    return true;
  }
  return false;
}

/** Called after each epoch's validation; applies the plateau rule. Returns true when it decayed. */
export function observeValError(spec: ScheduleSpec, state: ScheduleState, error: number): boolean {
  const d = spec.decay;
  if (state.bestValError === null || error < state.bestValError - (d.kind === 'plateau' ? d.threshold : 0)) {
    state.bestValError = error;
    state.epochsSinceBest = 0;
    return false;
  }
  state.epochsSinceBest++;
  if (d.kind === 'plateau' && state.epochsSinceBest >= d.patience) {
    state.plateauDecays++;
    state.epochsSinceBest = 0;
    return true;
  }
  return false;
}

export function describeSchedule(spec: ScheduleSpec): string {
  const d = spec.decay;
  const decay =
    d.kind === 'steps'
      ? `x${d.gamma} at iterations ${d.milestones.join(', ')}`
      : d.kind === 'cosine'
        ? `cosine to ${d.minFactor}x`
        : d.kind === 'plateau'
          ? `x${d.gamma} after ${d.patience} epochs without val improvement`
          : 'constant';
  const w = spec.warmup;
  const warm =
    w.kind === 'linear' || w.kind === 'constant'
      ? `, ${w.kind} warm-up over ${w.iterations} iterations`
      : w.kind === 'until-error'
        ? `, warm-up at ${w.lr} until training error < ${w.errorBelow * 100}%`
        : '';
  return `lr ${spec.baseLr} ${decay}${warm}`;
}
