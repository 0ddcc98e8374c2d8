import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../core/rng.js';

/** An input of a gradient check: values drawn once, uploaded to each backend in turn. */
export interface CheckInput {
  shape: number[];
  data: Float32Array;
}

export function randomInput(rng: Rng, shape: number[], scale = 1): CheckInput {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * scale;
  return { shape, data };
}

/** Value of `f` and its gradients with respect to every input, computed on `backend`. */
export async function valueAndGradsOn(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: CheckInput[],
): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape, 'float32'));
    const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => f(...a))(xs);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/**
 * Largest |a - b| relative to the largest |b| (so a tolerance reads as "digits that agree" on
 * the tensor's scale; float32 sums in different orders differ by ~1e-6 of that scale).
 */
export function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Number.POSITIVE_INFINITY;
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? err : err / scale;
}

/**
 * A scalar loss that weights every output element differently (a plain sum would make many
 * wrong gradients look right, e.g. any permutation of dy).
 */
export function weightedSum(y: tf.Tensor, seed: number): tf.Scalar {
  const rng = new Rng(seed);
  const w = new Float32Array(y.size);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-1, 1);
  return tf.sum(tf.mul(y, tf.tensor(w, y.shape))) as tf.Scalar;
}
