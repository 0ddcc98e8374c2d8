import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildResNet, resnetConfig } from '../../backbone/index.js';
import { initBackend } from '../../core/backend.js';
import { registerTrainingKernels, wasmTrainingKernels } from '../../core/kernels/index.js';
import { Rng } from '../../core/rng.js';
import { randomInput, relativeError } from './grad-check.js';

/**
 * Whole training steps of the backbone's own networks (tf.variableGrads over plain tf ops, as the
 * trainers use them) on wasm against cpu: a CIFAR-style ResNet-20 (option-A shortcuts) and a narrow
 * ImageNet-style ResNet-18 (7x7/2 stem, max-pool, 1x1/2 projections) on a non-square input.
 * Tolerance 1e-3 of each gradient's largest value: errors compound through 20 layers of BN.
 */
const TOL = 1e-3;

beforeAll(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});

async function gradsOn(
  backend: string,
  arch: string,
  overrides: Parameters<typeof resnetConfig>[1],
  x: { shape: number[]; data: Float32Array },
  labels: number[],
): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  await tf.setBackend(backend);
  const model = buildResNet(resnetConfig(arch, overrides));
  try {
    let result: { loss: number; grads: Map<string, Float32Array> } | undefined;
    tf.tidy(() => {
      const input = tf.tensor4d(x.data, x.shape as [number, number, number, number]);
      const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), overrides?.numClasses ?? 10);
      const vars = model.trainableVariables();
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(onehot, model.forward(input, true)) as tf.Scalar,
        vars,
      );
      // Variable names are process-wide counters; the parameter's position identifies it.
      const out = new Map<string, Float32Array>();
      for (const [i, v] of vars.entries()) {
        out.set(`param ${i} ${v.shape.join('x')}`, grads[v.name].dataSync() as Float32Array);
      }
      result = { loss: value.dataSync()[0], grads: out };
    });
    return result as { loss: number; grads: Map<string, Float32Array> };
  } finally {
    model.dispose();
  }
}

describe('training steps on wasm match cpu', () => {
  it('registration is idempotent and covers the kernels wasm lacks', async () => {
    await registerTrainingKernels();
    await registerTrainingKernels();
    for (const k of wasmTrainingKernels) expect(tf.getKernel(k.kernelName, 'wasm')).toBe(k);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  const cases = [
    { arch: 'resnet20', overrides: { inChannels: 1, numClasses: 10 }, shape: [4, 8, 8, 1] },
    { arch: 'resnet18', overrides: { baseWidth: 4, numClasses: 5 }, shape: [2, 40, 32, 3] },
  ];
  for (const c of cases) {
    it(`${c.arch} ${c.shape.join('x')}: loss and every parameter's gradient`, async () => {
      const rng = new Rng(11);
      const x = randomInput(rng, c.shape);
      const labels = Array.from({ length: c.shape[0] }, (_, i) => i % c.overrides.numClasses);
      const ref = await gradsOn('cpu', c.arch, c.overrides, x, labels);
      const got = await gradsOn('wasm', c.arch, c.overrides, x, labels);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.loss)));
      expect([...got.grads.keys()].sort()).toEqual([...ref.grads.keys()].sort());
      expect(ref.grads.size).toBeGreaterThan(20);
      for (const [name, r] of ref.grads) {
        expect(relativeError(got.grads.get(name) as Float32Array, r), name).toBeLessThan(TOL);
      }
    });
  }
});
