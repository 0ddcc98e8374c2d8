import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { pretrainConfig, ResNetClassifier } from '../../backbone/pretrain/model.js';
import { computeGradients } from '../../backbone/pretrain/step.js';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { fileEvalBatch, fileTrainBatch } from '../../data/classification/file-augment.js';
import type { FileSet } from '../../data/classification/types.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('image-file batches (ImageNet-style augmentation)', () => {
  it('scale-augments, crops and flips; 10-crop gives ten views per image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resdet-fb-'));
    // A 20x10 image: left half black, right half white.
    const raw = Buffer.alloc(20 * 10 * 3);
    for (let y = 0; y < 10; y++)
      for (let x = 10; x < 20; x++) raw.fill(255, (y * 20 + x) * 3, (y * 20 + x) * 3 + 3);
    const file = join(dir, 'a.png');
    await sharp(raw, { raw: { width: 20, height: 10, channels: 3 } })
      .png()
      .toFile(file);
    const set: FileSet = {
      kind: 'files',
      name: 't',
      classes: ['a'],
      files: [file, file],
      labels: Int32Array.of(0, 0),
    };
    const norm = { mean: [0, 0, 0], std: [1, 1, 1] };
    const aug = { scaleMin: 10, scaleMax: 14, crop: 8, flip: true, lighting: 0.1 };
    const b = await fileTrainBatch(set, [0, 1], norm, aug, new Rng(5));
    expect(b.shape).toEqual([2, 8, 8, 3]);
    for (const v of b.x) expect(v).toBeGreaterThan(-0.2); // colour noise is small
    const again = await fileTrainBatch(set, [0, 1], norm, aug, new Rng(5));
    expect(Array.from(again.x)).toEqual(Array.from(b.x)); // a batch is a function of the seed
    const ev = await fileEvalBatch(set, [0], norm, { resize: 10, crop: 8 }, true);
    expect(ev.shape).toEqual([10, 8, 8, 3]);
    // Crop 0 is the top-left corner (black), crop 1 the top-right (white); crop 5 mirrors crop 0.
    expect(ev.x[0]).toBeCloseTo(0, 1);
    expect(ev.x[1 * 192]).toBeCloseTo(1, 1);
    expect(ev.x[5 * 192 + 7 * 3]).toBeCloseTo(ev.x[0], 5);
  });
});

describe('gradient accumulation', () => {
  it('micro-batches sum to the full-batch gradient (BN on running statistics, so batches do not interact)', async () => {
    const config = {
      ...pretrainConfig('resnet8', { classes: 10, inChannels: 1, seed: 3, width: 4 }),
      frozenBn: true,
    };
    const net = new ResNetClassifier('resnet8', config);
    const params = net.params();
    const rng = new Rng(1);
    const n = 12;
    const batch = {
      x: Float32Array.from({ length: n * 8 * 8 }, () => rng.normal()),
      y: Int32Array.from({ length: n }, (_, i) => i % 10),
      shape: [n, 8, 8, 1] as [number, number, number, number],
    };
    const full = await computeGradients(net, params, batch, n);
    const acc = await computeGradients(net, params, batch, 5); // 5 + 5 + 2
    expect(acc.loss).toBeCloseTo(full.loss, 5);
    expect(acc.wrong).toBe(full.wrong);
    expect(full.grads.size).toBeGreaterThan(5);
    for (const [name, g] of full.grads) {
      const diff = tf.max(tf.abs(tf.sub(g, acc.grads.get(name)!))).dataSync()[0];
      const scale = tf.max(tf.abs(g)).dataSync()[0];
      expect(diff, name).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
    }
    net.dispose();
  });
});
