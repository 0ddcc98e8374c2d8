import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../../core/checkpoint.js';
import { DetectionLoader, type LoadedBatch } from '../../data/detection/loader.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import type { ImageBatch, ImageTargets } from '../model/faster-rcnn.js';

export interface TrainBatch {
  batch: ImageBatch;
  targets: ImageTargets[];
  /** Dataset indices of the images in the batch. */
  indices: number[];
}

/** What the training loop draws from: iteration `it`'s batch (tensors owned by the caller). */
export interface TrainBatchSource {
  batch(it: number): Promise<TrainBatch>;
  close(): Promise<void>;
}

/** The data pipeline's padded batch as the model's input tensor and per-image targets. */
export function toTrainBatch(b: LoadedBatch): TrainBatch {
  return {
    batch: { images: tf.tensor4d(b.images, b.shape), imageSizes: b.imageSizes },
    targets: b.boxes.map((boxes, k) => ({ boxes, labels: b.labels[k] })),
    indices: b.indices,
  };
}

/**
 * Image-centric training batches from data/'s DetectionLoader: decoded, resized, flipped and
 * normalised in worker threads ahead of the model, in an order that depends only on the seed and
 * the iteration (so a resumed run sees exactly the batches the interrupted one would have). An
 * image that fails to decode mid-run is replaced by the next one, with a message, rather than
 * ending a long run.
 */
export function trainingBatches(
  dataset: DetectionDataset,
  preprocessing: Preprocessing,
  opts: { imagesPerBatch: number; seed: number; flip: boolean; sizeDivisible: number; workers?: number },
): TrainBatchSource {
  const loader = new DetectionLoader(dataset, {
    batchSize: opts.imagesPerBatch,
    seed: opts.seed,
    flip: opts.flip,
    preprocessing,
    sizeDivisible: opts.sizeDivisible,
    workers: opts.workers,
    skipBad: true,
  });
  return {
    batch: async (it) => toTrainBatch(await loader.batch(it)),
    close: () => loader.close(),
  };
}
