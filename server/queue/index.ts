/**
 * Distributed detection over BullMQ: submit a run, start workers, status, collect, remove.
 *
 * @module resdet/queue
 */
export { type CollectedRun, type CollectOptions, collectRun, type MissingChunk } from './collect.js';
export { type ChunkState, openRun, removeRun, type RunHandle, runStatus, type RunStatus } from './inspect.js';
export { connectRedis } from './redis.js';
export {
  type ChunkImage,
  type ChunkJob,
  type ChunkResult,
  type ChunkStats,
  QUEUE_NAME,
  type RunInfo,
} from './run.js';
export { type SubmitOptions, type SubmitResult, submitRun } from './submit.js';
export {
  type QueueWorker,
  type QueueWorkerEvent,
  type QueueWorkerOptions,
  startQueueWorker,
} from './worker.js';
