import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';

/** torchvision ops fixtures (test/fixtures/torchvision/README.md has their conventions). */

// biome-ignore lint/suspicious/noExplicitAny: fixture JSON is loosely typed by nature
export type Json = any;

/** test/fixtures/torchvision/<folder>/<name>.json: `ops` (shipped), `ops-fuzz` or `heads` (generated). */
export function opsFixture(folder: 'ops' | 'ops-fuzz' | 'heads', name: string): Json {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/torchvision/${folder}/${name}.json`, import.meta.url), 'utf8'),
  );
}

/** An NCHW fixture tensor as the NHWC tensor resdet's RoI ops take. */
export function nchwToNhwc(t: { shape: number[]; data: number[] }): tf.Tensor4D {
  const [n, c, h, w] = t.shape;
  // tfjs-backend-wasm's transpose fails on an empty tensor (no RoIs): build that one directly.
  if (t.data.length === 0) return tf.zeros([n, h, w, c]);
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [0, 2, 3, 1]),
  );
}
