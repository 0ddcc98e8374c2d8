import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { roiAlign, roiPool } from '../../detection/index.js';

// Gradients of the RoI ops against central finite differences of a random linear functional
// L(x) = sum(op(x) * R). Inputs are distinct multiples of 0.1 so a step of 0.02 never changes a
// max-pool winner; roiAlign is linear in x, so its differences are exact up to float32 rounding.

const shape: [number, number, number, number] = [2, 6, 7, 3];
const rois = [
  [0, 2.5, 3.25, 70.5, 60.75],
  [1, -20, -10, 40, 30],
  [0, 50, 40, 120, 110],
  [1, 16, 16, 16.5, 16.5],
  [0, 0, 0, 112, 96],
];

function distinctInput(seed: number): Float32Array {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from(rng.permutation(n), (v) => (v - n / 2) * 0.1);
}

function checkGradient(
  op: (x: tf.Tensor4D) => tf.Tensor4D,
  seed: number,
  eps: number,
  tol: number,
  minNonzero: number,
): void {
  const x0 = distinctInput(seed);
  const outShape = tf.tidy(() => op(tf.tensor4d(x0, shape)).shape);
  const rng = new Rng(seed + 1);
  const r = tf.tensor(
    Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)),
    outShape,
  );
  const loss = (x: tf.Tensor) => tf.sum(tf.mul(op(x as tf.Tensor4D), r)) as tf.Scalar;
  const analytic = tf.tidy(() => tf.grad(loss)(tf.tensor4d(x0, shape)).dataSync());
  const lossAt = (x: Float32Array) => tf.tidy(() => loss(tf.tensor4d(x, shape)).dataSync()[0]);
  let nonzero = 0;
  for (let i = 0; i < x0.length; i++) {
    const plus = x0.slice();
    const minus = x0.slice();
    plus[i] += eps;
    minus[i] -= eps;
    const numeric = (lossAt(plus) - lossAt(minus)) / (2 * eps);
    expect(Math.abs(analytic[i] - numeric), `d/dx[${i}]: ${analytic[i]} vs ${numeric}`).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(numeric)),
    );
    if (Math.abs(numeric) > 1e-3) nonzero++;
  }
  // A gradient that is zero almost everywhere would pass the comparison vacuously.
  expect(nonzero).toBeGreaterThanOrEqual(minNonzero);
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('RoI op gradients (finite differences)', () => {
  it('roiPool routes the gradient to each bin maximum', () => {
    checkGradient((x) => roiPool(x, rois, [3, 3], 1 / 16), 7, 0.02, 2e-3, 30);
  });

  it('roiAlign (adaptive sampling, not aligned)', () => {
    checkGradient((x) => roiAlign(x, rois, [4, 4], 1 / 16, 0, false), 8, 0.05, 2e-3, 100);
  });

  it('roiAlign (sampling ratio 2, aligned)', () => {
    checkGradient((x) => roiAlign(x, rois, [3, 2], 1 / 16, 2, true), 9, 0.05, 2e-3, 100);
  });
});
