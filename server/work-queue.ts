import { HttpError } from './http-error.js';

export interface WorkQueueOptions {
  /** Jobs running at once. */
  concurrency: number;
  /** Jobs allowed to wait for a slot; one more is refused with 503. */
  maxQueue: number;
}

export interface RunOptions {
  /** Give up (504) when the job has not finished this long after it was submitted: queue wait included. */
  timeoutMs?: number;
  /** The client went away: drop the job if it is still waiting. */
  signal?: AbortSignal;
}

interface Waiter {
  start: () => void;
  cancel: (err: Error) => void;
}

/**
 * Bounded admission for inference: at most `concurrency` jobs run, at most `maxQueue` wait, the
 * rest are refused at once (503 with a Retry-After estimated from recent job times) instead of
 * piling up memory. A timed-out job that is already running cannot be interrupted (TF.js kernels
 * are not cancellable): its caller gets the 504 straight away and the slot frees when the job ends.
 */
export class WorkQueue {
  readonly concurrency: number;
  readonly maxQueue: number;
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Exponential moving average of job run time, seconds; seeds the Retry-After estimate. */
  private avgRunSeconds = 1;
  private idleResolvers: Array<() => void> = [];

  constructor(opts: WorkQueueOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new RangeError(`concurrency must be an integer >= 1, got ${opts.concurrency}`);
    if (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 0)
      throw new RangeError(`queue must be an integer >= 0, got ${opts.maxQueue}`);
    this.concurrency = opts.concurrency;
    this.maxQueue = opts.maxQueue;
  }

  /** Jobs waiting for a slot. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Jobs holding a slot (including timed-out ones still finishing). */
  get active(): number {
    return this.running;
  }

  /** Seconds a client refused now should wait before retrying. */
  retryAfterSeconds(): number {
    const backlog = (this.waiting.length + this.running) / this.concurrency;
    return Math.max(1, Math.ceil(backlog * this.avgRunSeconds));
  }

  /** Resolves when nothing runs or waits (used by shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  run<T>(job: () => Promise<T>, opts: RunOptions = {}): Promise<T> {
    if (opts.signal?.aborted)
      return Promise.reject(new HttpError(499, 'client_closed', 'client closed the request'));
    if (this.running >= this.concurrency && this.waiting.length >= this.maxQueue) {
      const retry = this.retryAfterSeconds();
      return Promise.reject(
        new HttpError(
          503,
          'queue_full',
          `server busy: ${this.running} running and ${this.waiting.length} waiting`,
          {
            hint: `retry after ${retry} s`,
            headers: { 'Retry-After': String(retry) },
          },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const start = () => {
        this.running++;
        const began = performance.now();
        let result: Promise<T>;
        try {
          result = job();
        } catch (err) {
          result = Promise.reject(err);
        }
        result.then(
          (value) => finish(() => resolve(value)),
          (err) => finish(() => reject(err)),
        );
        result
          .catch(() => undefined)
          .finally(() => {
            this.avgRunSeconds = 0.8 * this.avgRunSeconds + 0.2 * ((performance.now() - began) / 1000);
            this.running--;
            this.next();
          });
      };
      const waiter: Waiter = {
        start,
        cancel: (err) => finish(() => reject(err)),
      };
      const dequeue = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          this.checkIdle();
        }
      };
      const onAbort = () => {
        dequeue();
        waiter.cancel(new HttpError(499, 'client_closed', 'client closed the request'));
      };
      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        const ms = opts.timeoutMs;
        timer = setTimeout(() => {
          dequeue();
          waiter.cancel(
            new HttpError(504, 'timeout', `request not finished within ${ms} ms`, {
              hint: 'the server is overloaded or the image is very large; retry later',
            }),
          );
        }, ms);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (this.running < this.concurrency) start();
      else this.waiting.push(waiter);
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const waiter = this.waiting.shift()!;
      waiter.start();
    }
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.running === 0 && this.waiting.length === 0 && this.idleResolvers.length > 0) {
      const resolvers = this.idleResolvers;
      this.idleResolvers = [];
      for (const r of resolvers) r();
    }
  }
}
