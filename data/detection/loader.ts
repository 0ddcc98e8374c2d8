import { availableParallelism } from 'node:os';
import type { Preprocessing } from '../../core/checkpoint.js';
import { ResdetError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { deriveSeed } from '../seed.js';
import { siblingModule, WorkerPool } from '../workers/pool.js';
import type { PrepareJob, PrepareTaskArgs } from './prepare-task.js';
import {
  DETECTION_MAX_SIZE,
  DETECTION_MIN_SIZE,
  DETECTION_PREPROCESSING,
  type DetectionBatch,
  padBatch,
  type PreparedImage,
} from './transform.js';
import { type DetectionDataset, targetsOf } from './types.js';

const TASK_URL = siblingModule('prepare-task', import.meta.url);

export interface DetectionLoaderOptions {
  /** Images per batch. */
  batchSize: number;
  seed: number;
  /** Visit images in a seeded permutation per epoch (default true); else in dataset order. */
  shuffle?: boolean;
  /** Flip each image horizontally with probability 1/2 (default true). */
  flip?: boolean;
  /** Mean/std and sizes; default ImageNet statistics at the paper's 600/1000. */
  preprocessing?: Pick<
    Preprocessing,
    'mean' | 'std' | 'minSize' | 'maxSize' | 'channelOrder' | 'valueRange' | 'resize'
  >;
  /** Multi-scale training: each image's shorter side is drawn from this list (default [minSize]). */
  minSizes?: number[];
  maxSize?: number;
  /** Pad batches to a multiple of this (e.g. 32, the backbone stride); default 1. */
  sizeDivisible?: number;
  /** Worker threads decoding ahead; 0 decodes on the main thread. Default: cores - 1, 1..4. */
  workers?: number;
  /** Batches prepared ahead of the one asked for (default 2). */
  prefetch?: number;
  /** Train on difficult objects too (default false: they are left out, as in the paper). */
  keepDifficult?: boolean;
  /** An image that fails to decode is replaced by the next one in the dataset instead of stopping. */
  skipBad?: boolean;
}

/** What the loader decided for one slot of a batch, before any pixels are touched. */
export interface PlannedImage {
  index: number;
  flip: boolean;
  minSize: number;
}

export interface LoadedBatch extends DetectionBatch {
  /** Dataset indices of the images, in batch order. */
  indices: number[];
  ids: string[];
  imageIds: number[];
  /** The thread that prepared each image (0 = main thread). */
  threadIds: number[];
}

/**
 * Training batches for a detector, prepared by worker threads ahead of the model.
 *
 * Determinism: iteration `it` takes positions it*B .. it*B+B-1 of an endless sequence of epochs,
 * epoch e being a permutation drawn from (seed, e); each slot's flip and scale are drawn from
 * (seed, it). The plan is made on the calling thread and results are put back into plan order, so
 * the batches depend on the seed and the iteration only — not on worker count or timing — and a
 * resumed run sees exactly the batches the interrupted one would have.
 */
export class DetectionLoader {
  private readonly pool: WorkerPool<PrepareTaskArgs, PrepareJob, PreparedImage>;
  private readonly pending = new Map<number, Promise<LoadedBatch>>();
  private permCache?: { epoch: number; perm: number[] };
  private readonly minSizes: number[];
  private readonly opts: Required<
    Pick<DetectionLoaderOptions, 'batchSize' | 'seed' | 'shuffle' | 'flip' | 'sizeDivisible' | 'prefetch'>
  >;
  /** Images replaced because they could not be prepared (skipBad). */
  readonly skippedImages = new Set<number>();

  constructor(
    readonly dataset: DetectionDataset,
    private readonly options: DetectionLoaderOptions,
  ) {
    if (dataset.length === 0) throw new ResdetError(`${dataset.name}: no images to load`);
    if (!(options.batchSize >= 1)) throw new ResdetError(`batch size must be >= 1, got ${options.batchSize}`);
    const pre = options.preprocessing ?? DETECTION_PREPROCESSING;
    this.minSizes = options.minSizes ?? [pre.minSize ?? DETECTION_MIN_SIZE];
    const maxSize = options.maxSize ?? pre.maxSize ?? DETECTION_MAX_SIZE;
    this.opts = {
      batchSize: options.batchSize,
      seed: options.seed,
      shuffle: options.shuffle ?? true,
      flip: options.flip ?? true,
      sizeDivisible: options.sizeDivisible ?? 1,
      prefetch: options.prefetch ?? 2,
    };
    const workers = options.workers ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.pool = new WorkerPool({
      module: TASK_URL,
      args: {
        mean: [...pre.mean],
        std: [...pre.std],
        maxSize,
        // detectron2's input conventions, when the preprocessing has them (imported detectors)
        channelOrder: pre.channelOrder,
        valueRange: pre.valueRange,
        resize: pre.resize,
      },
      workers,
    });
  }

  /** Iterations in one pass over the data (the last batch of an epoch runs into the next). */
  get iterationsPerEpoch(): number {
    return Math.ceil(this.dataset.length / this.opts.batchSize);
  }

  private permutation(epoch: number): number[] {
    if (this.permCache?.epoch !== epoch) {
      const n = this.dataset.length;
      const perm = this.opts.shuffle
        ? new Rng(deriveSeed(this.opts.seed, 1, epoch)).permutation(n)
        : Array.from({ length: n }, (_, i) => i);
      this.permCache = { epoch, perm };
    }
    return this.permCache.perm;
  }

  /** The images, flips and scales of iteration `it`. */
  plan(it: number): PlannedImage[] {
    const n = this.dataset.length;
    const rng = new Rng(deriveSeed(this.opts.seed, 2, it));
    const out: PlannedImage[] = [];
    for (let k = 0; k < this.opts.batchSize; k++) {
      const pos = it * this.opts.batchSize + k;
      const index = this.permutation(Math.floor(pos / n))[pos % n];
      const flip = this.opts.flip && rng.bool();
      const minSize =
        this.minSizes.length === 1 ? this.minSizes[0] : this.minSizes[rng.int(0, this.minSizes.length - 1)];
      out.push({ index, flip, minSize });
    }
    return out;
  }

  /** The batch of iteration `it`; also starts preparing the next `prefetch` ones. */
  async batch(it: number): Promise<LoadedBatch> {
    for (let j = it; j <= it + this.opts.prefetch; j++) {
      if (this.pending.has(j)) continue;
      const p = this.load(j);
      // An error surfaces when that batch is awaited; until then it is not "unhandled".
      p.catch(() => {});
      this.pending.set(j, p);
    }
    const ready = this.pending.get(it) as Promise<LoadedBatch>;
    for (const k of [...this.pending.keys()]) if (k <= it) this.pending.delete(k);
    return ready;
  }

  /** Batches it = from, from + 1, ... (count of them, or forever). */
  async *batches(from = 0, count = Number.POSITIVE_INFINITY): AsyncGenerator<LoadedBatch> {
    for (let it = from; it < from + count; it++) yield await this.batch(it);
  }

  private async prepare(
    slot: PlannedImage,
  ): Promise<{ img: PreparedImage; index: number; threadId: number }> {
    let index = slot.index;
    for (let attempt = 0; ; attempt++) {
      const sample = this.dataset.get(index);
      const t = targetsOf(sample, { keepDifficult: this.options.keepDifficult });
      try {
        const r = await this.pool.run({
          path: sample.path,
          width: sample.width,
          height: sample.height,
          boxes: t.boxes,
          labels: t.labels,
          flip: slot.flip,
          minSize: slot.minSize,
        });
        return { img: r.value, index, threadId: r.threadId };
      } catch (err) {
        if (!this.options.skipBad || attempt + 1 >= this.dataset.length) throw err;
        if (!this.skippedImages.has(index)) {
          // Once per image: it comes round again every epoch.
          const message = (err as Error).message;
          process.stderr.write(
            `resdet: skipping ${message.startsWith(sample.path) ? message : `${sample.path}: ${message}`}\n`,
          );
        }
        this.skippedImages.add(index);
        index = (index + 1) % this.dataset.length;
      }
    }
  }

  private async load(it: number): Promise<LoadedBatch> {
    const prepared = await Promise.all(this.plan(it).map((slot) => this.prepare(slot)));
    const batch = padBatch(
      prepared.map((p) => p.img),
      this.opts.sizeDivisible,
    );
    const samples = prepared.map((p) => this.dataset.get(p.index));
    return {
      ...batch,
      indices: prepared.map((p) => p.index),
      ids: samples.map((s) => s.id),
      imageIds: samples.map((s) => s.imageId),
      threadIds: prepared.map((p) => p.threadId),
    };
  }

  async close(): Promise<void> {
    this.pending.clear();
    await this.pool.close();
  }
}
