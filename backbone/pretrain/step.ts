import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../data/classification/augment.js';
import type { ClassifierNet } from './net.js';
import type { NamedParam } from '../../core/train/sgd.js';

export interface StepResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Misclassified images in the batch. */
  wrong: number;
  /** Gradients by parameter name, averaged over the whole batch; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
}

/**
 * Forward and backward over `batch`, in micro-batches of at most `microBatch` images whose
 * gradients are summed (gradient accumulation): the result equals one pass over the whole batch,
 * except that BN statistics are per micro-batch.
 */
export async function computeGradients(
  net: ClassifierNet,
  params: NamedParam[],
  batch: Batch,
  microBatch: number,
): Promise<StepResult> {
  const [n, h, w, c] = batch.shape;
  const per = h * w * c;
  const vars = params.map((p) => p.variable);
  const nameOf = new Map(params.map((p) => [p.variable.name, p.name]));
  const grads = new Map<string, tf.Tensor>();
  // Loss and error count of each micro-batch, read together once the whole batch is done.
  const counts: tf.Tensor[] = [];
  for (let start = 0; start < n; start += microBatch) {
    const m = Math.min(microBatch, n - start);
    const out = tf.tidy(() => {
      const x = tf.tensor4d(batch.x.subarray(start * per, (start + m) * per), [m, h, w, c]);
      const labels = tf.tensor1d(batch.y.subarray(start, start + m), 'int32');
      let wrongT: tf.Tensor | undefined;
      const { value, grads: g } = tf.variableGrads(() => {
        const logits = net.apply(x, true);
        const onehot = tf.oneHot(labels, logits.shape[1]);
        const ce = tf.losses.softmaxCrossEntropy(onehot, logits);
        wrongT = tf.keep(tf.notEqual(tf.argMax(logits, 1).cast('int32'), labels).sum());
        // Scaled by this micro-batch's share so summed gradients are the batch mean.
        return tf.mul(ce, m / n) as tf.Scalar;
      }, vars);
      return { value, g, wrong: wrongT! };
    });
    counts.push(tf.tidy(() => tf.stack([out.value, tf.cast(out.wrong, 'float32')])));
    out.value.dispose();
    out.wrong.dispose();
    for (const [varName, g] of Object.entries(out.g)) {
      const name = nameOf.get(varName) ?? varName;
      const prev = grads.get(name);
      if (prev) {
        grads.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      } else grads.set(name, g);
    }
  }
  const all = tf.concat(counts);
  tf.dispose(counts);
  const values = await all.data();
  all.dispose();
  let loss = 0;
  let wrong = 0;
  for (let i = 0; i < values.length; i += 2) {
    loss += values[i];
    wrong += values[i + 1];
  }
  return { loss, wrong, grads };
}
