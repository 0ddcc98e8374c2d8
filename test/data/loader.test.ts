import { truncateSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DetectionLoader,
  type DetectionLoaderOptions,
  type LoadedBatch,
} from '../../data/detection/loader.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import { openVoc } from '../../data/detection/voc.js';
import { writeSynthSet } from '../../data/synth/write-set.js';
import { tempDir } from './helpers.js';

let ds: DetectionDataset;
let root: string;

beforeAll(async () => {
  root = tempDir();
  await writeSynthSet({ kind: 'shapes', out: root, train: 10, test: 0, size: 64, seed: 2 });
  ds = await openVoc(root, 'train');
});

const base: DetectionLoaderOptions = {
  batchSize: 4,
  seed: 7,
  minSizes: [48, 64, 80],
  maxSize: 200,
  sizeDivisible: 16,
};

async function take(opts: DetectionLoaderOptions, n: number, data = ds): Promise<LoadedBatch[]> {
  const loader = new DetectionLoader(data, opts);
  const out: LoadedBatch[] = [];
  try {
    for await (const b of loader.batches(0, n)) out.push(b);
  } finally {
    await loader.close();
  }
  return out;
}

const comparable = (b: LoadedBatch) => ({
  indices: b.indices,
  flipped: b.flipped,
  shape: b.shape,
  sizes: b.imageSizes,
  boxes: b.boxes.map((x) => Array.from(x)),
  labels: b.labels.map((x) => Array.from(x)),
});

describe('DetectionLoader', () => {
  const closers: DetectionLoader[] = [];
  afterAll(async () => {
    for (const l of closers) await l.close();
  });

  it('prepares images in worker threads', async () => {
    const batches = await take({ ...base, workers: 2 }, 3);
    const threads = new Set(batches.flatMap((b) => b.threadIds));
    expect(threads.has(0)).toBe(false);
    expect(threads.size).toBe(2);
  });

  it('gives the same batches for the same seed whatever the workers and prefetch, and others for another seed', async () => {
    const a = await take({ ...base, workers: 2, prefetch: 3 }, 5);
    const b = await take({ ...base, workers: 0, prefetch: 0 }, 5);
    const c = await take({ ...base, workers: 1, prefetch: 1 }, 5);
    expect(b.every((x) => x.threadIds.every((t) => t === 0))).toBe(true);
    for (let i = 0; i < 5; i++) {
      expect(comparable(b[i])).toEqual(comparable(a[i]));
      expect(comparable(c[i])).toEqual(comparable(a[i]));
      expect(Buffer.from(b[i].images.buffer).equals(Buffer.from(a[i].images.buffer))).toBe(true);
    }
    const other = await take({ ...base, seed: 8, workers: 0 }, 5);
    expect(other.map((x) => x.indices)).not.toEqual(a.map((x) => x.indices));
    // Flips and scales are actually drawn: both flip states and more than one scale occur.
    const flips = new Set(a.flatMap((x) => x.flipped));
    expect(flips.size).toBe(2);
    const shorter = new Set(a.flatMap((x) => x.imageSizes.map(([h, w]) => Math.min(h, w))));
    expect(shorter.size).toBeGreaterThan(1);
    for (const s of shorter) expect([48, 64, 80]).toContain(s);
  });

  it('visits every image once per epoch', async () => {
    const loader = new DetectionLoader(ds, { ...base, batchSize: 5, workers: 0 });
    const epoch0 = [...loader.plan(0), ...loader.plan(1)].map((p) => p.index);
    const epoch1 = [...loader.plan(2), ...loader.plan(3)].map((p) => p.index);
    await loader.close();
    expect([...epoch0].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...epoch1].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch1).not.toEqual(epoch0);
  });

  it('stops on an image that cannot be decoded, or replaces it with --skip-bad', async () => {
    const dir = tempDir();
    await writeSynthSet({ kind: 'shapes', out: dir, train: 3, test: 0, size: 64, seed: 4 });
    const bad = await openVoc(dir, 'train');
    const path = bad.get(1).path;
    truncateSync(path, Math.floor(statSync(path).size / 3));
    const opts = { ...base, batchSize: 3, shuffle: false, workers: 1 };
    await expect(take(opts, 1, bad)).rejects.toThrow(path);
    const loader = new DetectionLoader(bad, { ...opts, skipBad: true });
    closers.push(loader);
    const b = await loader.batch(0);
    expect(b.indices).toEqual([0, 2, 2]);
    expect([...loader.skippedImages]).toEqual([1]);
  });
});
