import { hostname } from 'node:os';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ResdetError } from '../../core/errors.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import { type Detector, loadDetector } from '../../detection/app/detector.js';
import { assertDetectorClasses, openEvaluationSet } from '../../detection/app/eval-set.js';
import { detectDataset } from '../../detection/app/evaluate.js';
import { bullConnection, connectRedis } from './redis.js';
import {
  type ChunkJob,
  type ChunkResult,
  type ChunkStats,
  KEY_PREFIX,
  QUEUE_NAME,
  runStatsKey,
} from './run.js';

export interface QueueWorkerOptions {
  redis: string;
  /** Chunks in flight in this process (default 1: one TF.js backend serves them all). */
  concurrency?: number;
  /** Name written on the jobs it runs (default host:pid). */
  name?: string;
  /**
   * A job's lock lasts this long and is renewed at half of it while the worker lives (default
   * 30000). A killed worker's chunk goes back to the queue once its lock runs out.
   */
  lockDurationMs?: number;
  /** How often this worker looks for other workers' lost chunks (default 30000). */
  stalledIntervalMs?: number;
  /** Times a chunk may be lost by a dying worker before it ends as failed (default 2). */
  maxStalledCount?: number;
  /** Told what the worker does: took, finished, failed or lost a chunk. */
  onEvent?: (event: QueueWorkerEvent) => void;
}

export type QueueWorkerEvent =
  | { type: 'active'; run: string; chunk: number; images: number; attempt: number }
  | { type: 'completed'; run: string; chunk: number; images: number; seconds: number }
  | { type: 'failed'; run: string; chunk: number; reason: string; final: boolean }
  | { type: 'stalled'; jobId: string }
  | { type: 'error'; message: string };

export interface QueueWorker {
  readonly name: string;
  /** Finishes the chunks in flight (their locks are kept), then closes every connection. */
  close(): Promise<void>;
}

/** The images of one chunk as a dataset, so that detection runs through detectDataset. */
function chunkView(dataset: DetectionDataset, indices: readonly number[]): DetectionDataset {
  return {
    name: dataset.name,
    classes: dataset.classes,
    categoryIds: dataset.categoryIds,
    length: indices.length,
    get: (i) => dataset.get(indices[i]),
    skipped: { images: 0, objects: 0 },
    problems: [],
  };
}

interface OpenedSet {
  dataset: DetectionDataset;
  index: Map<number, number>;
}

/**
 * Serves the detect queue: loads each run's model and dataset once (the last one used is kept),
 * runs a chunk's images and writes their detections back as the job's result. The TF.js backend
 * must be initialised first.
 */
export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorker> {
  (await connectRedis(opts.redis)).disconnect();
  const name = opts.name ?? `${hostname()}:${process.pid}`;
  const emit = opts.onEvent ?? (() => {});
  const stats = new Redis(opts.redis, { maxRetriesPerRequest: null });
  stats.on('error', () => {});
  // The current model, and how many chunks use it: a model replaced by another run's is disposed
  // once its last chunk is done, never under a chunk still running on it.
  interface LoadedModel {
    dir: string;
    detector: Promise<Detector>;
    users: number;
    replaced: boolean;
  }
  let model: LoadedModel | undefined;
  let data: { spec: string; set: Promise<OpenedSet> } | undefined;
  const dispose = (m: LoadedModel) => {
    m.detector.then((d) => d.dispose()).catch(() => {});
  };
  const acquireModel = (dir: string): LoadedModel => {
    if (model?.dir !== dir) {
      if (model) {
        model.replaced = true;
        if (model.users === 0) dispose(model);
      }
      const loaded: LoadedModel = { dir, detector: loadDetector(dir), users: 0, replaced: false };
      loaded.detector.catch(() => {
        if (model === loaded) model = undefined; // a later job tries again
      });
      model = loaded;
    }
    model.users++;
    return model;
  };
  const releaseModel = (m: LoadedModel) => {
    m.users--;
    if (m.replaced && m.users === 0) dispose(m);
  };
  const datasetFor = (spec: string): Promise<OpenedSet> => {
    if (data?.spec !== spec) {
      const set = openEvaluationSet(spec).then(({ dataset }) => {
        const index = new Map<number, number>();
        for (let i = 0; i < dataset.length; i++) index.set(dataset.get(i).imageId, i);
        return { dataset, index };
      });
      data = { spec, set };
      set.catch(() => {
        if (data?.spec === spec) data = undefined;
      });
    }
    return data.set;
  };

  const runChunk = async (job: Job<ChunkJob, ChunkResult>): Promise<ChunkResult> => {
    const { run, chunk, imageIds } = job.data;
    emit({ type: 'active', run, chunk, images: imageIds.length, attempt: job.attemptsMade + 1 });
    const loaded = acquireModel(job.data.model);
    try {
      const detector = await loaded.detector;
      const { dataset, index } = await datasetFor(job.data.data);
      assertDetectorClasses(dataset, detector.classes);
      const indices = imageIds.map((id) => {
        const i = index.get(id);
        if (i === undefined)
          throw new ResdetError(
            `image id ${id} is not in ${dataset.name} as this worker reads it`,
            'every worker must see the same dataset files as the submitter',
          );
        return i;
      });
      const t0 = performance.now();
      const results = await detectDataset(detector, chunkView(dataset, indices), { silent: true });
      const seconds = (performance.now() - t0) / 1000;
      return {
        worker: name,
        seconds,
        images: results.map((r) => ({ imageId: r.sample.imageId, detections: r.detections })),
      };
    } catch (err) {
      // BullMQ keeps only the message: put the hint (what to do) in it.
      const e = err as Error & { hint?: string };
      throw new Error(`run ${run} chunk ${chunk}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
    } finally {
      releaseModel(loaded);
    }
  };

  const worker = new Worker<ChunkJob, ChunkResult>(QUEUE_NAME, runChunk, {
    connection: bullConnection(opts.redis),
    prefix: KEY_PREFIX,
    name,
    concurrency: opts.concurrency ?? 1,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: opts.maxStalledCount ?? 2,
  });
  worker.on('completed', (job, result) => {
    const s: ChunkStats = {
      worker: result.worker,
      images: result.images.length,
      seconds: result.seconds,
      processedOn: job.processedOn ?? Date.now(),
      finishedOn: job.finishedOn ?? Date.now(),
    };
    // Written once BullMQ took the result: a chunk finished twice replaces its own entry.
    stats.hset(runStatsKey(job.data.run), String(job.data.chunk), JSON.stringify(s)).catch(() => {});
    emit({
      type: 'completed',
      run: job.data.run,
      chunk: job.data.chunk,
      images: s.images,
      seconds: s.seconds,
    });
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    emit({ type: 'failed', run: job.data.run, chunk: job.data.chunk, reason: err.message, final });
  });
  worker.on('stalled', (jobId) => emit({ type: 'stalled', jobId }));
  worker.on('error', (err) => emit({ type: 'error', message: err.message }));
  await worker.waitUntilReady();
  return {
    name,
    async close() {
      await worker.close();
      await stats.quit().catch(() => stats.disconnect());
      const last = model;
      model = undefined;
      await last?.detector.then((d) => d.dispose()).catch(() => {});
    },
  };
}
