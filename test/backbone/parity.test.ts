import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResNet, type FeatureName, type ResNet, resnetConfig } from '../../backbone/index.js';
import { type BackendName, initBackend } from '../../core/backend.js';
import { readSafetensors } from '../../core/safetensors.js';
import { rgbToTensor } from '../../data/image/classify-transform.js';
import { decodeImage } from '../../data/image/decode.js';

/**
 * Parity with torchvision on the tiny fixture: ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10),
 * F16 weights, a 64x64 PNG. Tolerances from the fixture's README: logits within
 * 1e-3 x max(1, max|logit|) (its abs_tolerance), feature samples within 1e-4 absolute,
 * feature mean and std within 1e-4 relative.
 */
const dir = join(import.meta.dirname, '..', 'fixtures', 'torchvision');

interface FeatureSummary {
  shape_nhwc: number[];
  mean: number;
  std: number;
  samples: { nhwc_flat_index: number; value: number }[];
}
const expected = JSON.parse(readFileSync(join(dir, 'tiny_resnet_expected.json'), 'utf8')).images.img0 as {
  logits: number[];
  top5: number[];
  abs_tolerance: number;
  features: Record<FeatureName, FeatureSummary>;
};

function tinyConfig() {
  return resnetConfig('resnet18', { layers: [1, 1, 1, 1], numClasses: 10 });
}

for (const backend of ['cpu', 'wasm'] as BackendName[]) {
  describe(`tiny torchvision ResNet on ${backend}`, () => {
    let model: ResNet;
    let input: tf.Tensor4D;

    beforeAll(async () => {
      await initBackend(backend, { notice: () => {} });
      model = buildResNet(tinyConfig());
      model.loadStateDict(readSafetensors(join(dir, 'tiny_resnet_basic1111_c10_f16.safetensors')));
      input = rgbToTensor(await decodeImage(join(dir, 'tiny_input_64.png')));
    });

    afterAll(() => {
      input.dispose();
      model.dispose();
    });

    it('reproduces the logits and the top-5', () => {
      const logits = model.forward(input, false);
      const got = Array.from(logits.dataSync());
      logits.dispose();
      const maxDiff = Math.max(...got.map((v, i) => Math.abs(v - expected.logits[i])));
      expect(maxDiff).toBeLessThanOrEqual(expected.abs_tolerance);
      const top5 = got
        .map((v, i) => [v, i])
        .sort((a, b) => b[0] - a[0])
        .slice(0, 5)
        .map(([, i]) => i);
      expect(top5).toEqual(expected.top5);
    });

    it('reproduces every stage feature map', () => {
      const feats = model.features(input);
      for (const [name, want] of Object.entries(expected.features)) {
        const t = feats[name as FeatureName];
        expect(t, name).toBeDefined();
        if (!t) continue;
        expect(t.shape, name).toEqual(want.shape_nhwc);
        const data = t.dataSync();
        for (const s of want.samples) {
          expect(
            Math.abs(data[s.nhwc_flat_index] - s.value),
            `${name}[${s.nhwc_flat_index}]`,
          ).toBeLessThanOrEqual(1e-4);
        }
        let sum = 0;
        for (const v of data) sum += v;
        const mean = sum / data.length;
        let sq = 0;
        for (const v of data) sq += (v - mean) ** 2;
        const std = Math.sqrt(sq / data.length);
        expect(Math.abs(mean - want.mean) / Math.abs(want.mean), `${name} mean`).toBeLessThan(1e-4);
        expect(Math.abs(std - want.std) / want.std, `${name} std`).toBeLessThan(1e-4);
      }
      for (const t of Object.values(feats)) t.dispose();
    });

    it('does not leak tensors in inference', () => {
      const warm = model.forward(input, false);
      warm.dispose();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) model.forward(input, false).dispose();
      const feats = model.features(input);
      for (const t of Object.values(feats)) t.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

/**
 * A Bottleneck net from torchvision's own Bottleneck and _make_layer (v1.5 stride, projections in
 * every stage incl. layer1), widths 8/16/32/64, [2, 1, 2, 1] blocks, F32 weights, randomised BN,
 * on a 70x54 input so strided layers see even and odd sizes. Written by test/backbone/fixtures/generators/torchvision_reference.py
 * (torchvision 0.14.1). Same tolerances as above.
 */
const bdir = join(import.meta.dirname, 'fixtures');
const bexpected = JSON.parse(readFileSync(join(bdir, 'bottleneck_small_expected.json'), 'utf8')) as {
  crop: [number, number];
  logits: number[];
  features: Record<FeatureName, FeatureSummary>;
};

for (const backend of ['cpu', 'wasm'] as BackendName[]) {
  describe(`small torchvision Bottleneck ResNet on ${backend}`, () => {
    it('reproduces logits and feature samples', async () => {
      await initBackend(backend, { notice: () => {} });
      const model = buildResNet(
        resnetConfig('resnet50', { layers: [2, 1, 2, 1], baseWidth: 8, numClasses: 5 }),
        { initialize: false },
      );
      model.loadStateDict(readSafetensors(join(bdir, 'bottleneck_small.safetensors')));
      const full = await decodeImage(join(bdir, 'eval_301x257.png'));
      const [w, h] = bexpected.crop;
      const data = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++)
        data.set(full.data.subarray(y * full.width * 3, (y * full.width + w) * 3), y * w * 3);
      const x = rgbToTensor({ data, width: w, height: h });
      const logits = Array.from(model.forward(x, false).dataSync());
      const tol = 1e-3 * Math.max(1, ...bexpected.logits.map(Math.abs));
      for (const [i, v] of logits.entries()) {
        expect(Math.abs(v - bexpected.logits[i]), `logit ${i}`).toBeLessThanOrEqual(tol);
      }
      const feats = model.features(x);
      for (const [name, want] of Object.entries(bexpected.features)) {
        const t = feats[name as FeatureName];
        expect(t?.shape, name).toEqual(want.shape_nhwc);
        const d = t?.dataSync() ?? new Float32Array();
        for (const s of want.samples)
          expect(Math.abs(d[s.nhwc_flat_index] - s.value), name).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose([x, ...Object.values(feats)]);
      model.dispose();
    });
  });
}
