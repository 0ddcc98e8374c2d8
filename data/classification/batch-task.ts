import type { TaskFn } from '../workers/protocol.js';
import type { Batch, Normalisation } from './augment.js';
import { type AugmentPlan, evalBatch, trainBatch } from './batches.js';
import type { ClassificationSet } from './types.js';

/**
 * Task module for data/workers: builds classification batches (decode, augment, normalise) in a
 * worker thread. Results are pure functions of the job, so workers change speed, never data.
 */
export interface BatchTaskArgs {
  set: ClassificationSet;
  norm: Normalisation;
  plan: AugmentPlan;
}

export type BatchJob =
  | { kind: 'train'; indices: number[]; seed: number }
  | { kind: 'eval'; indices: number[]; tenCrop: boolean };

export function createTask(args: BatchTaskArgs): TaskFn<BatchJob, Batch> {
  return async (job) => {
    const b =
      job.kind === 'train'
        ? await trainBatch(args.set, job.indices, args.norm, args.plan, job.seed)
        : await evalBatch(args.set, job.indices, args.norm, args.plan, job.tenCrop);
    return { value: b, transfer: [b.x.buffer as ArrayBuffer, b.y.buffer as ArrayBuffer] };
  };
}
