import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { createApp } from '../../server/app.js';
import { loadModels } from '../../server/models.js';
import { listen, postImage } from './helpers.js';
import { TINY_DETECTOR_CLASSES, writeTinyClassifier, writeTinyDetector } from './tiny-models.js';

/** The server on real (tiny, random) checkpoints: the adapters, shared models, no mixing. */

let dir: string;
let models: Awaited<ReturnType<typeof loadModels>>;

beforeAll(async () => {
  await initBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'resdet-serve-'));
  await writeTinyDetector(join(dir, 'det'));
  await writeTinyClassifier(join(dir, 'cls'));
  models = await loadModels({ detector: join(dir, 'det'), classifier: join(dir, 'cls') });
});
afterAll(() => {
  models?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Images that differ in size and content (gradients with per-image slopes). */
async function variedImage(i: number): Promise<Buffer> {
  const width = 40 + 9 * i;
  const height = 30 + ((7 * i) % 41);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * (i + 3) + y * 5) % 256;
      data[o + 1] = (y * (2 * i + 1)) % 256;
      data[o + 2] = ((x ^ y) * (i + 1)) % 256;
    }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('server on real checkpoints', () => {
  it('/v1/models describes the checkpoints', async () => {
    const server = await listen(createApp({ models, backend: 'wasm', log: () => {} }));
    try {
      const body = (await (await fetch(`${server.url}/v1/models`)).json()) as Record<
        string,
        Record<string, unknown>
      >;
      expect(body.detector).toMatchObject({
        name: 'det',
        kind: 'detector',
        arch: 'resnet18',
        classes: TINY_DETECTOR_CLASSES,
      });
      expect(body.detector.categoryIds).toEqual([17, 18, 3]);
      expect(body.detector.preprocessing).toMatchObject({ minSize: 64, maxSize: 96 });
      expect(body.classifier).toMatchObject({ name: 'cls', arch: 'resnet20' });
      expect((body.classifier.classes as string[]).length).toBe(10);
    } finally {
      await server.close();
    }
  });

  it('parallel requests give each image the answer it gets alone; no tensors leak', async () => {
    const server = await listen(createApp({ models, concurrency: 3, queue: 64, log: () => {} }));
    try {
      const images = await Promise.all(Array.from({ length: 10 }, (_, i) => variedImage(i)));
      const ask = async (png: Buffer, i: number) => {
        const route = i % 2 === 0 ? '/v1/detect?max_detections=5' : '/v1/classify?topk=3';
        const res = await postImage(`${server.url}${route}`, png);
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        return JSON.stringify({
          image: body.image,
          detections: body.detections,
          predictions: body.predictions,
        });
      };
      // Warm-up, then one at a time for the reference answers.
      await ask(images[0], 0);
      await ask(images[1], 1);
      const before = tf.memory().numTensors;
      const alone: string[] = [];
      for (let i = 0; i < images.length; i++) alone.push(await ask(images[i], i));
      // Different images really give different answers, so a mix-up would be caught.
      expect(new Set(alone).size).toBe(images.length);
      const together = await Promise.all(images.map((png, i) => ask(png, i)));
      expect(together).toEqual(alone);
      const detect0 = JSON.parse(alone[0]) as { detections: Array<{ box: number[]; label: string }> };
      expect(detect0.detections.length).toBeGreaterThan(0);
      for (const d of detect0.detections) {
        expect(TINY_DETECTOR_CLASSES).toContain(d.label);
        // Boxes are in the original image's pixels (40 x 30 for image 0), not the resized input's.
        expect(d.box[2]).toBeLessThanOrEqual(40 + 1e-3);
        expect(d.box[3]).toBeLessThanOrEqual(30 + 1e-3);
      }
      // The weights were loaded once: requests add no tensors.
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await server.close();
    }
  });
});
