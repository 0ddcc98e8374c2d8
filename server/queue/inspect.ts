import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ResdetError } from '../../core/errors.js';
import { bullConnection, connectRedis } from './redis.js';
import {
  type ChunkJob,
  type ChunkResult,
  type ChunkStats,
  chunkJobId,
  chunkSize,
  checkRunName,
  KEY_PREFIX,
  QUEUE_NAME,
  type RunInfo,
  runKey,
  runStatsKey,
} from './run.js';

/** Where one chunk stands: BullMQ's job state ('delayed' is a failed try waiting to be retried). */
export interface ChunkState {
  chunk: number;
  state: string;
  /** Last failure, naming the image (set on failed chunks and on chunks that failed a try). */
  reason?: string;
  attempts: number;
}

/** A run's record, its queue and a client, opened together and closed together. */
export interface RunHandle {
  info: RunInfo;
  redis: Redis;
  queue: Queue<ChunkJob, ChunkResult>;
  close(): Promise<void>;
}

export async function openRun(url: string, run: string): Promise<RunHandle> {
  checkRunName(run);
  const redis = await connectRedis(url);
  const raw = await redis.get(runKey(run));
  if (raw === null) {
    redis.disconnect();
    throw new ResdetError(
      `no run "${run}" in the Redis at ${url}`,
      'check the name `resdet queue submit` printed, and the --redis URL',
    );
  }
  const queue = new Queue<ChunkJob, ChunkResult>(QUEUE_NAME, {
    connection: bullConnection(url),
    prefix: KEY_PREFIX,
  });
  return {
    info: JSON.parse(raw) as RunInfo,
    redis,
    queue,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** Runs `fn` over 0..n-1, `width` at a time (one round trip each, pipelined by the client). */
async function mapChunks<T>(n: number, fn: (i: number) => Promise<T>, width = 64): Promise<T[]> {
  const out: T[] = new Array(n);
  for (let start = 0; start < n; start += width) {
    const end = Math.min(n, start + width);
    const part = await Promise.all(Array.from({ length: end - start }, (_, k) => fn(start + k)));
    for (let k = 0; k < part.length; k++) out[start + k] = part[k];
  }
  return out;
}

/** Every chunk's state; `withResult` also fetches finished chunks' detections (for collect). */
export async function chunkStates(
  run: RunHandle,
  withResult: boolean,
): Promise<Array<ChunkState & { result?: ChunkResult }>> {
  return mapChunks(run.info.chunks, async (chunk) => {
    const id = chunkJobId(run.info.name, chunk);
    const state = await run.queue.getJobState(id);
    const needJob = state !== 'waiting' && state !== 'active' && (withResult || state !== 'completed');
    const job = needJob ? await Job.fromId<ChunkJob, ChunkResult>(run.queue, id) : undefined;
    return {
      chunk,
      state,
      attempts: job?.attemptsMade ?? 0,
      reason: job?.failedReason || undefined,
      result: state === 'completed' ? job?.returnvalue : undefined,
    };
  });
}

export interface RunStatus {
  info: RunInfo;
  chunks: { completed: number; failed: number; active: number; queued: number };
  images: { done: number; failed: number; total: number };
  /** Images per second from the first chunk's start to the last chunk's end (all workers). */
  rate: number;
  /** Seconds to go at that rate (Infinity before the first chunk ends). */
  etaSeconds: number;
  /** Workers that finished chunks, with how many images each. */
  workers: Record<string, number>;
  failures: Array<{ chunk: number; reason: string }>;
}

/** Progress of a run: chunk states, images done, rate and ETA. */
export async function runStatus(url: string, name: string): Promise<RunStatus> {
  const run = await openRun(url, name);
  try {
    const states = await chunkStates(run, false);
    const stats = Object.values(await run.redis.hgetall(runStatsKey(name))).map(
      (s) => JSON.parse(s) as ChunkStats,
    );
    const chunks = { completed: 0, failed: 0, active: 0, queued: 0 };
    const images = { done: 0, failed: 0, total: run.info.images };
    const failures: RunStatus['failures'] = [];
    for (const s of states) {
      const n = chunkSize(run.info, s.chunk);
      if (s.state === 'completed') {
        chunks.completed++;
        images.done += n;
      } else if (s.state === 'failed') {
        chunks.failed++;
        images.failed += n;
        failures.push({ chunk: s.chunk, reason: s.reason ?? 'unknown' });
      } else if (s.state === 'active') chunks.active++;
      else chunks.queued++;
    }
    const workers: Record<string, number> = {};
    for (const s of stats) workers[s.worker] = (workers[s.worker] ?? 0) + s.images;
    const first = Math.min(...stats.map((s) => s.processedOn));
    const last = Math.max(...stats.map((s) => s.finishedOn));
    const statImages = stats.reduce((a, s) => a + s.images, 0);
    const rate = stats.length > 0 && last > first ? statImages / ((last - first) / 1000) : 0;
    const left = images.total - images.done - images.failed;
    return {
      info: run.info,
      chunks,
      images,
      rate,
      etaSeconds: left === 0 ? 0 : rate > 0 ? left / rate : Number.POSITIVE_INFINITY,
      workers,
      failures,
    };
  } finally {
    await run.close();
  }
}

/**
 * Deletes a run from Redis: its jobs with their results, its record and its timings (results
 * stay in Redis until this; collect first). A run with chunks running is refused.
 */
export async function removeRun(url: string, name: string): Promise<{ chunks: number }> {
  const run = await openRun(url, name);
  try {
    const running = (await chunkStates(run, false)).filter((s) => s.state === 'active');
    if (running.length > 0)
      throw new ResdetError(
        `run ${name} has ${running.length} chunk(s) running (first: chunk ${running[0].chunk})`,
        `wait for them (\`resdet queue status ${name}\`) or stop the workers, then remove it`,
      );
    const removed = await mapChunks(run.info.chunks, (c) => run.queue.remove(chunkJobId(name, c)));
    await run.redis.del(runKey(name), runStatsKey(name));
    return { chunks: removed.reduce((a, n) => a + n, 0) };
  } finally {
    await run.close();
  }
}
