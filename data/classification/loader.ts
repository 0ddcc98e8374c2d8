import { siblingModule, WorkerPool } from '../workers/pool.js';
import type { Batch, Normalisation } from './augment.js';
import type { BatchJob, BatchTaskArgs } from './batch-task.js';
import { type AugmentPlan, evalBatch, trainBatch } from './batches.js';
import type { ClassificationSet } from './types.js';

/**
 * Where batches come from: worker threads (decoding and augmentation off the training thread) or,
 * with 0 workers, the calling thread. Both give identical batches for the same job.
 */
export class BatchSource {
  private readonly pool?: WorkerPool<BatchTaskArgs, BatchJob, Batch>;
  private readonly args: BatchTaskArgs;

  constructor(set: ClassificationSet, norm: Normalisation, plan: AugmentPlan, workers: number) {
    this.args = { set, norm, plan };
    if (workers > 0) {
      this.pool = new WorkerPool({
        module: siblingModule('batch-task', import.meta.url),
        args: this.args,
        workers,
      });
    }
  }

  async train(indices: number[], seed: number): Promise<Batch> {
    if (!this.pool) return trainBatch(this.args.set, indices, this.args.norm, this.args.plan, seed);
    return (await this.pool.run({ kind: 'train', indices, seed })).value;
  }

  async eval(indices: number[], tenCrop: boolean): Promise<Batch> {
    if (!this.pool) return evalBatch(this.args.set, indices, this.args.norm, this.args.plan, tenCrop);
    return (await this.pool.run({ kind: 'eval', indices, tenCrop })).value;
  }

  async close(): Promise<void> {
    if (!this.pool) return;
    // The pool's idle workers are unref'd: without a handle of our own the process could exit
    // (with status 0) while waiting for them to terminate.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await this.pool.close();
    } finally {
      clearInterval(keepAlive);
    }
  }
}
