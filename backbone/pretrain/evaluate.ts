import * as tf from '@tensorflow/tfjs';
import type { Normalisation } from '../../data/classification/augment.js';
import { type AugmentPlan, evalBatch } from '../../data/classification/batches.js';
import { type ClassificationSet, setLength } from '../../data/classification/types.js';
import type { ClassifierNet } from './net.js';
import { Prefetcher } from './prefetch.js';

export interface EvalResult {
  images: number;
  top1Error: number;
  top5Error: number;
  loss: number;
}

export interface EvalOptions {
  batchSize: number;
  tenCrop?: boolean;
  /** Evaluate only the first `limit` examples. */
  limit?: number;
  onBatch?: (done: number, total: number) => void;
}

/**
 * Top-1 and top-5 error in inference mode (BN running statistics). With 10-crop the softmax
 * outputs of an image's crops are averaged, as the paper's testing.
 */
export async function evaluateClassifier(
  net: ClassifierNet,
  set: ClassificationSet,
  norm: Normalisation,
  plan: AugmentPlan,
  opts: EvalOptions,
): Promise<EvalResult> {
  const total = Math.min(setLength(set), opts.limit ?? Number.POSITIVE_INFINITY);
  const perImage = opts.tenCrop ? 10 : 1;
  const bs = Math.max(1, Math.floor(opts.batchSize / perImage));
  const count = Math.ceil(total / bs);
  const prefetch = new Prefetcher(
    (k) => {
      const idx = Array.from({ length: Math.min(bs, total - k * bs) }, (_, i) => k * bs + i);
      return evalBatch(set, idx, norm, plan, Boolean(opts.tenCrop));
    },
    count,
    2,
  );
  let top1 = 0;
  let top5 = 0;
  let lossSum = 0;
  let done = 0;
  for (let k = 0; k < count; k++) {
    const batch = await prefetch.get(k);
    const n = batch.y.length;
    const sums = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, batch.shape);
      const logits = net.apply(x, false);
      const classes = logits.shape[1];
      let probs = tf.softmax(logits);
      if (perImage > 1) probs = probs.reshape([n, perImage, classes]).mean(1) as tf.Tensor2D;
      const labels = tf.tensor1d(batch.y, 'int32');
      const k5 = Math.min(5, classes);
      const { indices } = tf.topk(probs, k5);
      const match = tf.equal(indices, labels.expandDims(1)).cast('float32');
      const h1 = match.slice([0, 0], [n, 1]).sum();
      const h5 = match.sum();
      const onehot = tf.oneHot(labels, classes);
      const nll = tf.neg(tf.sum(tf.mul(onehot, tf.log(tf.add(probs, 1e-12)))));
      return tf.stack([h1, h5, nll]);
    });
    const [hit1, hit5, loss] = await sums.data();
    sums.dispose();
    top1 += hit1;
    top5 += hit5;
    lossSum += loss;
    done += n;
    opts.onBatch?.(done, total);
  }
  return {
    images: done,
    top1Error: done ? 1 - top1 / done : Number.NaN,
    top5Error: done ? 1 - top5 / done : Number.NaN,
    loss: done ? lossSum / done : Number.NaN,
  };
}
