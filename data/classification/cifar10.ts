import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import type { ClassificationData, MemorySet } from './types.js';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

/** `DIR` may be cifar-10-batches-bin itself or the folder the archive was extracted into. */
export function resolveCifar10Dir(dir: string): string {
  if (existsSync(join(dir, 'data_batch_1.bin'))) return dir;
  const nested = join(dir, 'cifar-10-batches-bin');
  if (existsSync(join(nested, 'data_batch_1.bin'))) return nested;
  throw new ResdetError(
    `${dir}: no CIFAR-10 binary batches (data_batch_1.bin) here or in cifar-10-batches-bin/`,
    'run `resdet data download cifar10 --to DIR` (the binary version, not the Python pickles)',
  );
}

/** Reads binary batch files (1 label byte + 3072 planar RGB bytes per record) into HWC pixels. */
function readBatches(dir: string, files: string[], name: string, classes: string[]): MemorySet {
  const buffers = files.map((f) => {
    const path = join(dir, f);
    if (!existsSync(path)) throw new ResdetError(`${path}: CIFAR-10 batch file missing`);
    const buf = readFileSync(path);
    if (buf.length % RECORD !== 0) {
      throw new ResdetError(
        `${path}: ${buf.length} bytes is not a whole number of ${RECORD}-byte records`,
        'the file is truncated; download the archive again',
      );
    }
    return { path, buf };
  });
  const n = buffers.reduce((s, b) => s + b.buf.length / RECORD, 0);
  const labels = new Int32Array(n);
  const pixels = new Uint8Array(n * 3 * PLANE);
  let k = 0;
  for (const { path, buf } of buffers) {
    for (let off = 0; off < buf.length; off += RECORD, k++) {
      const y = buf[off];
      if (y >= classes.length)
        throw new ResdetError(`${path}: record ${off / RECORD} has label ${y}, outside 0..9`);
      labels[k] = y;
      const dst = k * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        pixels[dst + 3 * p] = buf[off + 1 + p];
        pixels[dst + 3 * p + 1] = buf[off + 1 + PLANE + p];
        pixels[dst + 3 * p + 2] = buf[off + 1 + 2 * PLANE + p];
      }
    }
  }
  return { kind: 'memory', name, classes, labels, height: SIDE, width: SIDE, channels: 3, pixels };
}

export function loadCifar10(dir: string): ClassificationData {
  const root = resolveCifar10Dir(dir);
  const metaPath = join(root, 'batches.meta.txt');
  let classes = CIFAR10_CLASSES;
  if (existsSync(metaPath)) {
    const names = readFileSync(metaPath, 'utf8')
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 10) classes = names;
  }
  const train = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
  return {
    spec: `cifar10:${dir}`,
    train: readBatches(root, train, 'cifar10:train', classes),
    test: readBatches(root, ['test_batch.bin'], 'cifar10:test', classes),
  };
}
