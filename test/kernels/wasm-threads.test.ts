import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildResNet, resnetConfig } from '../../backbone/index.js';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { randomInput, relativeError, valueAndGradsOn, weightedSum } from './grad-check.js';

/**
 * The threaded SIMD build of tfjs-backend-wasm under Node (RESDET_WASM_THREADS=2): it loads, runs
 * XNNPACK with 2 threads, reports threads on, and computes what cpu computes (tolerance 1e-4 of
 * the largest reference value).
 */
beforeAll(async () => {
  process.env.RESDET_WASM_THREADS = '2';
  await initBackend('cpu');
  const { report } = await initBackend('wasm');
  expect(report.wasm?.reason).toContain('threads on');
});

describe('threaded wasm backend', () => {
  it('uses 2 XNNPACK threads', async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    expect(wasm.getThreadsCount()).toBe(2);
  });

  it('conv forward and both gradients match cpu', async () => {
    const rng = new Rng(3);
    const inputs = [randomInput(rng, [2, 14, 12, 8]), randomInput(rng, [3, 3, 8, 16], 0.3)];
    const f = (x: tf.Tensor, w: tf.Tensor) =>
      weightedSum(tf.relu(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 1)), 1);
    const ref = await valueAndGradsOn('cpu', f, inputs);
    const got = await valueAndGradsOn('wasm', f, inputs);
    for (let i = 0; i < ref.length; i++) expect(relativeError(got[i], ref[i])).toBeLessThan(1e-4);
  });

  it('a ResNet-18 training step: every parameter gradient matches cpu within 1e-3', async () => {
    const rng = new Rng(4);
    const x = randomInput(rng, [2, 48, 40, 3]);
    const grads: Float32Array[][] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = buildResNet(resnetConfig('resnet18', { baseWidth: 4, numClasses: 3 }));
      grads.push(
        tf.tidy(() => {
          const vars = model.trainableVariables();
          const y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
          const input = tf.tensor4d(x.data, [2, 48, 40, 3]);
          const { grads: g } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(y, model.forward(input, true)) as tf.Scalar,
            vars,
          );
          return vars.map((v) => g[v.name].dataSync() as Float32Array);
        }),
      );
      model.dispose();
    }
    expect(grads[1].length).toBe(grads[0].length);
    for (const [i, ref] of grads[0].entries()) {
      expect(relativeError(grads[1][i], ref), `param ${i}`).toBeLessThan(1e-3);
    }
  });
});
