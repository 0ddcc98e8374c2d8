import { resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { type DatasetSpecPart, formatDatasetSource, parseDatasetSpec } from '../../data/detection/spec.js';
import type { Detection } from '../../detection/app/detector.js';

/**
 * A queue run: a dataset cut into chunks of image ids, one BullMQ job per chunk on one queue that
 * every worker serves. Jobs carry ids, never pixels: each worker reads the images from the same
 * paths (a shared file system, or the same files baked into every machine's image).
 */
export const QUEUE_NAME = 'detect';
/** BullMQ's key prefix, and ours for the runs' records, so that everything lives under `resdet:`. */
export const KEY_PREFIX = 'resdet';

/** What `submit` records about a run; `status` and `collect` read it back. */
export interface RunInfo {
  name: string;
  /** Absolute detector checkpoint directory, as every worker must see it. */
  model: string;
  /** Dataset spec with absolute paths. */
  data: string;
  chunk: number;
  images: number;
  chunks: number;
  /** ms since the epoch. */
  submittedAt: number;
}

/** One job: a chunk of a run, named by its COCO image ids in dataset order. */
export interface ChunkJob {
  run: string;
  chunk: number;
  model: string;
  data: string;
  imageIds: number[];
}

/** Detections of one image, as the detector returned them (full precision, dataset class order). */
export interface ChunkImage {
  imageId: number;
  detections: Detection[];
}

/** What a worker writes back with a finished job. */
export interface ChunkResult {
  worker: string;
  images: ChunkImage[];
  /** Detection time of the chunk (model load excluded). */
  seconds: number;
}

/** Per-chunk timing kept beside the run, small enough for `status` to read all of it. */
export interface ChunkStats {
  worker: string;
  images: number;
  seconds: number;
  processedOn: number;
  finishedOn: number;
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function checkRunName(name: string): string {
  if (!RUN_NAME.test(name))
    throw new UsageError(
      `run name "${name}": use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)`,
    );
  return name;
}

/** A fresh name from the clock: run-20261204-181855. */
export function defaultRunName(now = new Date()): string {
  return `run-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}

/** Job ids sort in chunk order and name their run (BullMQ ids may not hold ':'). */
export function chunkJobId(run: string, chunk: number): string {
  return `${run}.${String(chunk).padStart(6, '0')}`;
}

export const runKey = (run: string) => `${KEY_PREFIX}:run:${run}`;
export const runStatsKey = (run: string) => `${KEY_PREFIX}:run:${run}:chunks`;

/** Image count of chunk `i` of a run (the last one may be short). */
export function chunkSize(info: RunInfo, i: number): number {
  return Math.max(0, Math.min(info.chunk, info.images - i * info.chunk));
}

/** The spec with every path made absolute, so that workers started elsewhere read the same files. */
export function absoluteSpec(spec: string): string {
  const abs = (p: DatasetSpecPart): DatasetSpecPart =>
    p.kind === 'voc'
      ? { ...p, root: resolve(p.root) }
      : { ...p, annotations: resolve(p.annotations), imageDir: p.imageDir && resolve(p.imageDir) };
  return parseDatasetSpec(spec)
    .sources.map((p) => formatDatasetSource(abs(p)))
    .join('+');
}
