import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { threadId, Worker } from 'node:worker_threads';
import { ResdetError } from '../../core/errors.js';
import type { FromWorker, SerializedError, TaskFn, TaskModule, WorkerInit } from './protocol.js';

/**
 * The file: URL of module `name` beside `from` (an import.meta.url), with `from`'s own extension:
 * .ts under tsx/vitest, .js in dist, .mjs in an esbuild bundle (../shared/gpu/prepare.sh writes
 * each named entry, e.g. data/detection/prepare-task.ts, as `<name>.mjs` beside the others).
 */
export function siblingModule(name: string, from: string): string {
  const ext = /\.(ts|mjs|js)$/.exec(new URL(from).pathname)?.[0] ?? '.js';
  return new URL(`./${name}${ext}`, from).href;
}

/** Under tsx/vitest this file is .ts and its workers need tsx too. */
const SELF_IS_TS = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(siblingModule('worker', import.meta.url));

/**
 * Starts the worker entry. From .ts sources the worker must load tsx before the entry: Node 20
 * does not apply `execArgv: ['--import', 'tsx']` to a worker's own entry module, so a tiny eval'd
 * bootstrap registers tsx's loader and then imports the entry.
 */
function startWorker(workerData: WorkerInit): Worker {
  if (!SELF_IS_TS) return new Worker(WORKER_URL, { workerData });
  // require.resolve picks the package's CommonJS build; its ESM twin is the one that registers hooks.
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const esm = cjs.replace(/\.cjs$/, '.mjs');
  const tsxApi = pathToFileURL(existsSync(esm) ? esm : cjs).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}

export interface PoolOptions<A> {
  /** file: URL of the task module (e.g. `new URL('./my-task.js', import.meta.url).href`). */
  module: string;
  args: A;
  /** Worker threads; 0 runs jobs on the calling thread (same code path, for debugging). */
  workers: number;
}

export interface PoolResult<R> {
  value: R;
  /** The thread that ran the job (0 = the main thread). */
  threadId: number;
}

function reviveError(e: SerializedError): Error {
  const err =
    e.name === 'ResdetError' || e.name === 'UsageError'
      ? new ResdetError(e.message, e.hint)
      : new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: number;
}

/**
 * A pool of worker threads that run one task module's jobs. Jobs go to the least busy worker;
 * results come back in whatever order the workers finish — callers that need an order (the loader)
 * key them by job, so the outcome never depends on timing.
 */
export class WorkerPool<A, J, R> {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (r: PoolResult<R>) => void; reject: (e: Error) => void; slot: Slot }
  >();
  private nextId = 0;
  private local?: Promise<TaskFn<J, R>>;
  private closed = false;

  constructor(opts: PoolOptions<A>) {
    if (opts.workers <= 0) {
      this.local = import(opts.module).then((m: TaskModule<A, J, R>) => m.createTask(opts.args));
      return;
    }
    const init: WorkerInit = { module: opts.module, args: opts.args };
    for (let i = 0; i < opts.workers; i++) {
      const worker = startWorker(init);
      // Idle workers must not keep the process alive; pending jobs hold it through their promises.
      worker.unref();
      let onReady: () => void = () => {};
      let onFail: (e: Error) => void = () => {};
      const ready = new Promise<void>((res, rej) => {
        onReady = res;
        onFail = rej;
      });
      ready.catch(() => {});
      const slot: Slot = { worker, ready, busy: 0 };
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') onReady();
        else if (msg.type === 'init-error') onFail(reviveError(msg.error));
        else this.settle(msg);
      });
      worker.on('error', (err) => {
        onFail(err);
        this.failAll(slot, err);
      });
      worker.on('exit', (code) => {
        if (!this.closed) this.failAll(slot, new Error(`data worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  private settle(msg: Extract<FromWorker, { type: 'result' | 'error' }>): void {
    const entry = this.waiting.get(msg.id);
    if (!entry) return;
    this.waiting.delete(msg.id);
    entry.slot.busy--;
    if (entry.slot.busy === 0) entry.slot.worker.unref();
    if (msg.type === 'result') entry.resolve({ value: msg.value as R, threadId: msg.threadId });
    else entry.reject(reviveError(msg.error));
  }

  private failAll(slot: Slot, err: Error): void {
    for (const [id, entry] of this.waiting) {
      if (entry.slot !== slot) continue;
      this.waiting.delete(id);
      entry.reject(err);
    }
  }

  async run(job: J): Promise<PoolResult<R>> {
    if (this.closed) throw new Error('worker pool is closed');
    if (this.local) {
      const fn = await this.local;
      return { value: (await fn(job)).value, threadId };
    }
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    slot.worker.ref();
    await slot.ready;
    const id = this.nextId++;
    return new Promise<PoolResult<R>>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ type: 'job', id, job });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // Idle workers are unref'd; ref them so the wait for their exit keeps the process alive
    // (otherwise a caller awaiting close() could see Node exit with status 0 mid-wait).
    for (const s of this.slots) s.worker.ref();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
