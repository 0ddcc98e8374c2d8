import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { roiAlign } from '../../detection/ops/roi-align.js';
import { roiPool } from '../../detection/ops/roi-pool.js';
import { type CheckInput, randomInput, relativeError, valueAndGradsOn, weightedSum } from './grad-check.js';

/**
 * Gradients of every non-convolution op the ResNets and the detector train through, wasm against
 * cpu. Tolerance 1e-4 of the largest reference value (different summation orders; observed
 * ~1e-6), except where noted.
 */
const TOL = 1e-4;

beforeAll(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});

async function expectSameGrads(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: CheckInput[], tol = TOL) {
  const ref = await valueAndGradsOn('cpu', f, inputs);
  const got = await valueAndGradsOn('wasm', f, inputs);
  expect(got.length).toBe(inputs.length + 1);
  ref.forEach((r, i) => {
    expect(relativeError(got[i], r), i === 0 ? 'value' : `gradient ${i - 1}`).toBeLessThan(tol);
  });
}

/** BN in training mode as the backbone runs it: batch moments, then tf.batchNorm. */
function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
}

describe('layer gradients on wasm match cpu', () => {
  const rng = new Rng(2024);

  it('maxPool 3x3/2 pad 1 (ResNet stem), even and odd sizes', async () => {
    for (const shape of [
      [2, 8, 8, 3],
      [1, 9, 7, 4],
      [2, 11, 16, 2],
    ]) {
      await expectSameGrads(
        (x) => weightedSum(tf.maxPool(x as tf.Tensor4D, 3, 2, 1), 1),
        [randomInput(rng, shape)],
      );
    }
  });

  it('avgPool 2x2/2 and global average pooling (mean over H, W)', async () => {
    const x = randomInput(rng, [2, 6, 6, 5]);
    await expectSameGrads((t) => weightedSum(tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid'), 2), [x]);
    await expectSameGrads(
      (t) => weightedSum(tf.avgPool(t as tf.Tensor4D, 3, 2, 1), 2),
      [randomInput(rng, [1, 9, 7, 2])],
    );
    await expectSameGrads((t) => weightedSum(tf.mean(t, [1, 2]), 3), [x]);
  });

  it('batch norm in training mode (moments + batchNorm) with scale and offset', async () => {
    const inputs = [randomInput(rng, [4, 5, 5, 6], 2), randomInput(rng, [6]), randomInput(rng, [6])];
    await expectSameGrads((x, g, b) => weightedSum(batchNormTrain(x, g, b), 4), inputs);
  });

  it('batch norm with frozen statistics (inference-style, stats as inputs)', async () => {
    const inputs = [
      randomInput(rng, [2, 3, 3, 4]),
      randomInput(rng, [4]),
      { shape: [4], data: Float32Array.from([0.5, 1, 2, 3]) },
      randomInput(rng, [4]),
      randomInput(rng, [4]),
    ];
    await expectSameGrads((x, m, v, g, b) => weightedSum(tf.batchNorm(x, m, v, b, g, 1e-5), 5), inputs);
  });

  it('batch norm on a 2-D input (rows x channels)', async () => {
    const inputs = [randomInput(rng, [16, 5]), randomInput(rng, [5]), randomInput(rng, [5])];
    await expectSameGrads((x, g, b) => {
      const { mean, variance } = tf.moments(x, [0]);
      return weightedSum(tf.batchNorm(x, mean, variance, b, g, 1e-5), 6);
    }, inputs);
  });

  it('relu, add (residual) and broadcast add', async () => {
    const inputs = [randomInput(rng, [2, 4, 4, 3]), randomInput(rng, [2, 4, 4, 3]), randomInput(rng, [3])];
    await expectSameGrads((a, b, c) => weightedSum(tf.relu(tf.add(tf.add(a, b), c)), 7), inputs);
  });

  it('matMul (fully connected layer) and softmax cross-entropy', async () => {
    const labels = tf.tidy(
      () => tf.oneHot(tf.tensor1d([1, 0, 3, 2, 1], 'int32'), 4).dataSync() as Float32Array,
    );
    const inputs = [randomInput(rng, [5, 8]), randomInput(rng, [8, 4], 0.5), randomInput(rng, [4])];
    await expectSameGrads((x, w, b) => {
      const logits = tf.add(tf.matMul(x, w), b);
      return tf.losses.softmaxCrossEntropy(tf.tensor2d(labels, [5, 4]), logits) as tf.Scalar;
    }, inputs);
  });

  it('smooth L1 / sigmoid cross-entropy (detector losses)', async () => {
    const inputs = [randomInput(rng, [6, 4]), randomInput(rng, [6, 4])];
    await expectSameGrads(
      (a, b) =>
        tf.add(tf.losses.huberLoss(b, a), tf.losses.sigmoidCrossEntropy(tf.sigmoid(b), a)) as tf.Scalar,
      inputs,
    );
  });

  it('roiAlign and roiPool (detector RoI heads): gradient to the feature map', async () => {
    const rois = [
      [0, 1.2, 0.5, 6.3, 5.1],
      [1, 0, 0, 7, 7],
      [0, 3.5, 2.25, 4.5, 6.75],
    ];
    const x = randomInput(rng, [2, 8, 8, 3]);
    await expectSameGrads((t) => weightedSum(roiAlign(t, rois, [2, 2], 1, 2, true), 8), [x]);
    await expectSameGrads((t) => weightedSum(roiPool(t, rois, [2, 2], 1), 9), [x]);
  });
});

describe('reduction gradients on wasm match cpu', () => {
  const rng = new Rng(77);
  const x = randomInput(rng, [3, 4, 5, 6]);
  const cases: [string, number[]][] = [
    ['all leading axes (moments)', [0, 1, 2]],
    ['spatial axes (global pool)', [1, 2]],
    ['last axis', [3]],
    ['first axis', [0]],
    ['every axis', [0, 1, 2, 3]],
    ['non-contiguous axes (TF.js gradient)', [0, 2]],
  ];
  for (const [name, axes] of cases) {
    it(`mean and sum over ${name}`, async () => {
      await expectSameGrads((t) => weightedSum(tf.mean(t, axes), 12), [x]);
      await expectSameGrads((t) => weightedSum(tf.sum(t, axes, true), 13), [x]);
    });
  }
});

describe('per-channel broadcasts on wasm (1x1 depthwise path, tensors >= 4096 elements) match cpu', () => {
  const rng = new Rng(91);
  const x = randomInput(rng, [4, 8, 8, 24]);
  const v = randomInput(rng, [24]);
  const v4 = { shape: [1, 1, 1, 24], data: v.data };
  for (const [name, f] of [
    ['x * v', (a: tf.Tensor, b: tf.Tensor) => tf.mul(a, b)],
    ['v * x', (a: tf.Tensor, b: tf.Tensor) => tf.mul(b, a)],
    ['x + v', (a: tf.Tensor, b: tf.Tensor) => tf.add(a, b)],
    ['x - v', (a: tf.Tensor, b: tf.Tensor) => tf.sub(a, b)],
    ['v - x', (a: tf.Tensor, b: tf.Tensor) => tf.sub(b, a)],
  ] as const) {
    it(`${name} with v of shape [C] and [1, 1, 1, C]`, async () => {
      await expectSameGrads((a, b) => weightedSum(f(a, b), 21), [x, v]);
      await expectSameGrads((a, b) => weightedSum(f(a, b), 22), [x, v4]);
    });
  }

  it('batch norm in training mode on a large activation', async () => {
    const inputs = [randomInput(rng, [4, 8, 8, 24], 3), randomInput(rng, [24]), randomInput(rng, [24])];
    await expectSameGrads((a, g, b) => weightedSum(tf.relu(batchNormTrain(a, g, b)), 23), inputs);
  });

  it('broadcasts along other axes keep the package kernels', async () => {
    const col = randomInput(rng, [4, 8, 8, 1]);
    await expectSameGrads((a, b) => weightedSum(tf.mul(a, b), 24), [x, col]);
  });
});

describe('mean and sum forward on wasm (pooling path) match cpu', () => {
  const rng = new Rng(5);
  const x = randomInput(rng, [4, 6, 7, 10], 2);
  const cases: [number[], boolean][] = [
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[1, 2], false],
    [[1], true],
    [[0, 1], false],
    [[3], false],
    [[0, 3], false],
  ];
  for (const [axes, keepDims] of cases) {
    it(`axes [${axes}] keepDims ${keepDims}`, async () => {
      await expectSameGrads(
        (t) => weightedSum(tf.add(tf.mean(t, axes, keepDims), tf.sum(t, axes, keepDims)), 31),
        [x],
      );
      const shapes: number[][] = [];
      for (const b of ['cpu', 'wasm']) {
        await tf.setBackend(b);
        shapes.push(tf.tidy(() => tf.mean(tf.zeros(x.shape), axes, keepDims).shape));
      }
      expect(shapes[1]).toEqual(shapes[0]);
    });
  }
});
