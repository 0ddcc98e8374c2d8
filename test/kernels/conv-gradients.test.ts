import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { randomInput, relativeError, valueAndGradsOn, weightedSum } from './grad-check.js';

/**
 * Convolution gradients on wasm (resdet's Conv2DBackpropFilter and Conv2DBackpropInput kernels)
 * against TF.js's cpu backend, for every convolution the ResNets use and the awkward sizes
 * around them (odd sizes where stride 2 drops the last row, stride 3). Tolerance: 1e-4 of the
 * largest reference value; the two backends sum in different orders, observed error ~1e-6.
 */
const TOL = 1e-4;

type Pad = number | 'valid' | 'same';
interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  outC: number;
  stride: number;
  pad: Pad;
}

const cases: Case[] = [
  { name: 'stem 7x7/2 pad 3', x: [2, 22, 22, 3], k: 7, outC: 8, stride: 2, pad: 3 },
  { name: 'stem 7x7/2 pad 3, odd size', x: [1, 17, 15, 3], k: 7, outC: 4, stride: 2, pad: 3 },
  { name: '3x3/1 pad 1', x: [2, 9, 9, 6], k: 3, outC: 5, stride: 1, pad: 1 },
  { name: '3x3/2 pad 1', x: [2, 10, 10, 4], k: 3, outC: 6, stride: 2, pad: 1 },
  { name: '3x3/2 pad 1, odd size', x: [2, 9, 11, 4], k: 3, outC: 6, stride: 2, pad: 1 },
  { name: '1x1/1 valid', x: [2, 7, 7, 8], k: 1, outC: 12, stride: 1, pad: 'valid' },
  { name: '1x1/2 valid', x: [2, 8, 8, 8], k: 1, outC: 12, stride: 2, pad: 'valid' },
  { name: '1x1/2 valid, odd size', x: [2, 9, 7, 8], k: 1, outC: 12, stride: 2, pad: 'valid' },
  { name: '3x3/1 same', x: [1, 6, 8, 3], k: 3, outC: 4, stride: 1, pad: 'same' },
  { name: '3x3/2 same, even size', x: [1, 8, 8, 3], k: 3, outC: 4, stride: 2, pad: 'same' },
  { name: '3x3/3 pad 1', x: [1, 10, 11, 3], k: 3, outC: 4, stride: 3, pad: 1 },
  { name: '5x5/1 valid', x: [1, 9, 9, 2], k: 5, outC: 3, stride: 1, pad: 'valid' },
];

beforeAll(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});

describe('conv2d gradients on wasm match cpu', () => {
  for (const method of ['taps', 'batch-swap']) {
    for (const c of cases) {
      it(`${c.name} (filter gradient by ${method})`, async () => {
        process.env.RESDET_WASM_FILTER_GRAD = method;
        const rng = new Rng(c.x.reduce((a, b) => a * 31 + b, c.k));
        const inputs = [randomInput(rng, c.x), randomInput(rng, [c.k, c.k, c.x[3], c.outC], 0.3)];
        const f = (x: tf.Tensor, w: tf.Tensor) =>
          weightedSum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad), 7);
        const ref = await valueAndGradsOn('cpu', f, inputs);
        const got = await valueAndGradsOn('wasm', f, inputs);
        const errs = ref.map((r, i) => relativeError(got[i], r));
        expect(errs[0], 'value').toBeLessThan(TOL);
        expect(errs[1], 'dL/dx (Conv2DBackpropInput)').toBeLessThan(TOL);
        expect(errs[2], 'dL/dw (Conv2DBackpropFilter)').toBeLessThan(TOL);
        delete process.env.RESDET_WASM_FILTER_GRAD;
      });
    }
  }

  it('filter gradient method: taps for 1x1/1 and small batches, batch swap otherwise', async () => {
    const { filterGradMethod } = await import('../../core/kernels/conv2d-backprop-filter.js');
    const { convGeometry } = await import('../../core/kernels/conv-geometry.js');
    const geo = (x: number[], k: number, s: number) =>
      convGeometry(x, [k, k, x[3], 8], s, 'valid', undefined, 'NHWC');
    expect(filterGradMethod(geo([64, 28, 28, 16], 1, 1))).toBe('taps');
    expect(filterGradMethod(geo([2, 28, 28, 16], 3, 1))).toBe('taps');
    expect(filterGradMethod(geo([64, 28, 28, 16], 3, 1))).toBe('batch-swap');
    expect(filterGradMethod(geo([2, 28, 28, 16], 3, 2))).toBe('batch-swap');
  });

  it('fused conv2d + bias + relu (frozen-BN layers, as in detector fine-tuning), stride 2', async () => {
    const rng = new Rng(9);
    const inputs = [
      randomInput(rng, [2, 9, 10, 6]),
      randomInput(rng, [3, 3, 6, 8], 0.3),
      randomInput(rng, [8]),
    ];
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      weightedSum(
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 2,
          pad: 1,
          bias: b,
          activation: 'relu',
        }),
        4,
      );
    const ref = await valueAndGradsOn('cpu', f, inputs);
    const got = await valueAndGradsOn('wasm', f, inputs);
    for (let i = 0; i < ref.length; i++) expect(relativeError(got[i], ref[i])).toBeLessThan(TOL);
  });

  it('conv2dTranspose (Conv2DBackpropInput as a layer) with stride 2', async () => {
    const rng = new Rng(5);
    const inputs = [randomInput(rng, [2, 5, 5, 6]), randomInput(rng, [3, 3, 4, 6], 0.3)];
    const f = (dy: tf.Tensor, w: tf.Tensor) =>
      weightedSum(tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [2, 10, 10, 4], 2, 'same'), 3);
    const ref = await valueAndGradsOn('cpu', f, inputs);
    const got = await valueAndGradsOn('wasm', f, inputs);
    for (let i = 0; i < ref.length; i++) expect(relativeError(got[i], ref[i])).toBeLessThan(TOL);
  });
});
