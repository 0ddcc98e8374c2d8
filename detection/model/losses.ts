import * as tf from '@tensorflow/tfjs';

/**
 * Smooth-L1 (Huber) summed over all elements: 0.5 x^2 / beta for |x| < beta, |x| - 0.5 beta
 * otherwise. torchvision's detection heads use beta = 1/9. Callers divide by the sample count.
 */
export function smoothL1Sum(pred: tf.Tensor, target: tf.Tensor, beta = 1 / 9, mask?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    // With m = min(|x|, beta): 0.5 m^2 / beta + (|x| - m) is both branches in one expression,
    // built from differentiable ops only (TF.js has no gradient for comparisons).
    const diff = tf.abs(tf.sub(pred, target));
    const m = tf.minimum(diff, beta);
    const loss = tf.add(tf.div(tf.mul(tf.square(m), 0.5), beta), tf.sub(diff, m));
    return tf.sum(mask ? tf.mul(loss, mask) : loss);
  });
}

/**
 * Binary cross-entropy of logits against 0/1 targets (numerically stable form), averaged over
 * the elements whose `weights` is 1. Masks instead of gathers: the gather gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks, and the dense form is cheap at these sizes.
 */
export function maskedBinaryCrossEntropyWithLogits(
  logits: tf.Tensor,
  targets: tf.Tensor,
  weights: tf.Tensor,
  count: number,
): tf.Scalar {
  return tf.tidy(() => {
    // max(x, 0) - x t + log(1 + exp(-|x|))
    const loss = tf.add(
      tf.sub(tf.relu(logits), tf.mul(logits, targets)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
    );
    return tf.div(tf.sum(tf.mul(loss, weights)), Math.max(count, 1)) as tf.Scalar;
  });
}

/** Mean softmax cross-entropy of logits [N, K] against integer labels. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, onehot), 1))) as tf.Scalar;
  });
}
