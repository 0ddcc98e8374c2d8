/** A minimal task module for the worker-pool test: squares numbers, fails on request. */
import { threadId } from 'node:worker_threads';
import { ResdetError } from '../../core/errors.js';
import type { TaskFn } from '../../data/workers/protocol.js';

export function createTask(args: {
  offset: number;
}): TaskFn<{ x: number; fail?: boolean }, { y: Float64Array; thread: number }> {
  return async (job) => {
    if (job.fail) throw new ResdetError(`job ${job.x} failed`, 'as asked');
    const y = Float64Array.of(job.x * job.x + args.offset);
    return { value: { y, thread: threadId }, transfer: [y.buffer as ArrayBuffer] };
  };
}
