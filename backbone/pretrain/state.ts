import { initialScheduleState, type ScheduleState } from '../../core/train/schedule.js';

/** Where a run stands; stored in the checkpoint's `training` field so --resume continues it. */
export interface RunState {
  /** Completed iterations (optimizer steps). */
  iteration: number;
  /** The epoch in progress (0-based) and how many of its batches are done. */
  epoch: number;
  batchInEpoch: number;
  /** Data order and augmentation derive from this seed and (epoch, batch) alone. */
  seed: number;
  schedule: ScheduleState;
  /** Training wall time summed over every session of the run. */
  trainSeconds: number;
  /** Running sums over the epoch in progress (so a resumed epoch reports the whole epoch). */
  epochLoss: number;
  epochWrong: number;
  epochImages: number;
}

export function initialRunState(seed: number): RunState {
  return {
    iteration: 0,
    epoch: 0,
    batchInEpoch: 0,
    seed,
    schedule: initialScheduleState(),
    trainSeconds: 0,
    epochLoss: 0,
    epochWrong: 0,
    epochImages: 0,
  };
}

/** Pretraining's seed stream lives with the other mixer in data/seed.ts. */
export { mixSeed } from '../../data/seed.js';
