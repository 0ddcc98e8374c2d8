/**
 * The generic worker protocol: a worker imports a *task module* and runs its jobs. A task module
 * exports `createTask(args)`, which returns the function that runs one job:
 *
 *   export function createTask(args: MyArgs): TaskFn<MyJob, MyResult> {
 *     return async (job) => ({ value: ..., transfer: [someFloat32Array.buffer] });
 *   }
 *
 * `args` and jobs must be structured-cloneable (typed arrays are fine); buffers listed in
 * `transfer` move to the caller without a copy. Any task can use the pool — the detection
 * pipeline (data/detection/prepare-task.ts) is one; a classification loader can be another.
 */
export interface TaskOutput<R> {
  value: R;
  /** ArrayBuffers inside `value` to transfer instead of copying. */
  transfer?: ArrayBuffer[];
}

export type TaskFn<J, R> = (job: J) => Promise<TaskOutput<R>>;

export interface TaskModule<A, J, R> {
  createTask(args: A): TaskFn<J, R> | Promise<TaskFn<J, R>>;
}

export interface WorkerInit {
  /** file: URL of the task module. */
  module: string;
  args: unknown;
}

export type ToWorker = { type: 'job'; id: number; job: unknown };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; value: unknown; threadId: number }
  | { type: 'error'; id: number; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  hint?: string;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    return { name: err.name, message: err.message, hint: (err as { hint?: string }).hint, stack: err.stack };
  }
  return { name: 'Error', message: String(err) };
}
