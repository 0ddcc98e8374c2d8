import type { Preprocessing } from '../../core/checkpoint.js';
import { Rng } from '../../core/rng.js';
import { deriveSeed } from '../../data/seed.js';
import { decodeImage } from '../../data/image/decode.js';
import { type DetectionDataset, targetsOf } from '../../data/detection/types.js';
import type { ImageBatch, ImageTargets } from '../model/faster-rcnn.js';
import { boxesToPrepared, collate, type PreparedImage, prepareImage } from '../preprocess.js';

export interface TrainBatch {
  batch: ImageBatch;
  targets: ImageTargets[];
  /** Dataset indices of the images in the batch. */
  indices: number[];
}

/** One 32-bit seed per (run seed, purpose, epoch or iteration): shared with the data loaders. */
export const mixSeed = deriveSeed;

/**
 * Image-centric training batches: epoch e visits the images in a permutation drawn from
 * (seed, e); iteration i takes the next `imagesPerBatch` of them; each image is flipped
 * horizontally with probability 1/2 from (seed, i, k). Everything depends only on the iteration
 * number, so a resumed run sees exactly the batches the interrupted one would have. Batches are
 * decoded ahead (sharp works on libuv's threads while the model computes).
 */
export class DetectionLoader {
  private readonly dataset: DetectionDataset;
  private readonly pre: Preprocessing;
  private readonly imagesPerBatch: number;
  private readonly seed: number;
  private readonly flip: boolean;
  private readonly sizeDivisible: number;
  private readonly prefetch: number;
  private readonly pending = new Map<number, Promise<PreparedBatch>>();
  private permutations = new Map<number, number[]>();

  constructor(
    dataset: DetectionDataset,
    pre: Preprocessing,
    opts: { imagesPerBatch: number; seed: number; flip: boolean; sizeDivisible: number; prefetch?: number },
  ) {
    if (dataset.length === 0) throw new Error(`${dataset.name}: no images to train on`);
    this.dataset = dataset;
    this.pre = pre;
    this.imagesPerBatch = opts.imagesPerBatch;
    this.seed = opts.seed;
    this.flip = opts.flip;
    this.sizeDivisible = opts.sizeDivisible;
    this.prefetch = opts.prefetch ?? 2;
  }

  /** Dataset indices of iteration `it`'s images. */
  indicesOf(it: number): number[] {
    const n = this.dataset.length;
    const out: number[] = [];
    for (let k = 0; k < this.imagesPerBatch; k++) {
      const pos = it * this.imagesPerBatch + k;
      const epoch = Math.floor(pos / n);
      out.push(this.permutation(epoch)[pos % n]);
    }
    return out;
  }

  private permutation(epoch: number): number[] {
    let p = this.permutations.get(epoch);
    if (!p) {
      p = new Rng(mixSeed(this.seed, 1, epoch)).permutation(this.dataset.length);
      this.permutations.clear();
      this.permutations.set(epoch, p);
    }
    return p;
  }

  /** The batch of iteration `it` (tensors owned by the caller); starts loading the next ones. */
  async batch(it: number): Promise<TrainBatch> {
    for (let j = it; j <= it + this.prefetch; j++) {
      if (this.pending.has(j)) continue;
      const p = this.load(j);
      // Errors surface when that batch is awaited; until then they must not count as unhandled.
      p.catch(() => {});
      this.pending.set(j, p);
    }
    const ready = await (this.pending.get(it) as Promise<PreparedBatch>);
    this.pending.delete(it);
    for (const k of this.pending.keys()) if (k < it) this.pending.delete(k);
    return {
      batch: collate(ready.images, this.sizeDivisible),
      targets: ready.targets,
      indices: ready.indices,
    };
  }

  private async load(it: number): Promise<PreparedBatch> {
    const indices = this.indicesOf(it);
    const rng = new Rng(mixSeed(this.seed, 2, it));
    const flips = indices.map(() => this.flip && rng.bool());
    const images = await Promise.all(
      indices.map(async (i, k) => {
        const sample = this.dataset.get(i);
        return prepareImage(await decodeImage(sample.path), this.pre, flips[k]);
      }),
    );
    const targets = indices.map((i, k) => {
      const t = targetsOf(this.dataset.get(i));
      return { boxes: boxesToPrepared(t.boxes, images[k]), labels: t.labels };
    });
    return { images, targets, indices };
  }
}

interface PreparedBatch {
  images: PreparedImage[];
  targets: ImageTargets[];
  indices: number[];
}
