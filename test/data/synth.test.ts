import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openCoco } from '../../data/detection/coco.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import { openVoc } from '../../data/detection/voc.js';
import { FASHION_CLASSES } from '../../data/synth/fashion.js';
import { SHAPE_CLASSES } from '../../data/synth/shapes.js';
import { writeSynthSet } from '../../data/synth/write-set.js';
import { tempDir } from './helpers.js';

function plain(ds: DetectionDataset) {
  return Array.from({ length: ds.length }, (_, i) => {
    const s = ds.get(i);
    return {
      id: s.imageId,
      path: s.path,
      size: [s.width, s.height],
      boxes: Array.from(s.boxes),
      labels: Array.from(s.labels),
    };
  });
}

describe('synth shapes', () => {
  it('writes a VOC tree and COCO json that read back as the same dataset', async () => {
    const out = tempDir();
    const summary = await writeSynthSet({ kind: 'shapes', out, train: 8, test: 4, size: 96, seed: 3 });
    expect(summary.images).toEqual({ train: 8, test: 4 });
    for (const split of ['train', 'test']) {
      const voc = await openVoc(out, split, { checkImages: 'quick' });
      const coco = await openCoco(join(out, 'annotations', `instances_${split}.json`), undefined, {
        checkImages: 'quick',
      });
      expect(voc.classes).toEqual(SHAPE_CLASSES);
      expect(coco.classes).toEqual(SHAPE_CLASSES);
      expect(plain(coco)).toEqual(plain(voc));
      expect(voc.length).toBe(split === 'train' ? 8 : 4);
    }
    const train = await openVoc(out, 'train');
    let objects = 0;
    for (let i = 0; i < train.length; i++) {
      const s = train.get(i);
      expect(s.labels.length).toBeGreaterThanOrEqual(1);
      expect(s.labels.length).toBeLessThanOrEqual(4);
      objects += s.labels.length;
      for (let j = 0; j < s.labels.length; j++) {
        const [x1, y1, x2, y2] = s.boxes.subarray(j * 4, j * 4 + 4);
        const side = Math.max(x2 - x1, y2 - y1);
        // 15-60% of the side, up to a pixel of anti-aliasing either way.
        expect(side).toBeGreaterThanOrEqual(0.15 * 96 - 1);
        expect(side).toBeLessThanOrEqual(0.6 * 96 + 2);
        expect(x1).toBeGreaterThanOrEqual(0);
        expect(x2).toBeLessThanOrEqual(96);
      }
    }
    expect(objects).toBe(summary.objects.train);
    const meta = await sharp(train.get(0).path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 96, 96]);
  });

  it('is deterministic under a seed, with or without workers, and differs across seeds', async () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    await writeSynthSet({ kind: 'shapes', out: a, train: 3, test: 1, size: 64, seed: 11, workers: 0 });
    // Same set from two worker threads as from the calling thread alone.
    await writeSynthSet({ kind: 'shapes', out: b, train: 3, test: 1, size: 64, seed: 11, workers: 2 });
    await writeSynthSet({ kind: 'shapes', out: c, train: 3, test: 1, size: 64, seed: 12 });
    const read = (dir: string, f: string) => readFileSync(join(dir, f));
    for (const f of [
      'JPEGImages/000001.jpg',
      'JPEGImages/000004.jpg',
      'Annotations/000002.xml',
      'annotations/instances_train.json',
      'annotations/instances_test.json',
    ]) {
      expect(read(a, f).equals(read(b, f))).toBe(true);
    }
    expect(read(a, 'JPEGImages/000001.jpg').equals(read(c, 'JPEGImages/000001.jpg'))).toBe(false);
  });
});

describe('synth fashion', () => {
  it('writes Fashion-MNIST scenes whose VOC and COCO versions agree', async () => {
    const out = tempDir();
    const summary = await writeSynthSet({ kind: 'fashion', out, train: 4, test: 2, size: 96, seed: 1 });
    expect(summary.classes).toEqual(FASHION_CLASSES);
    const voc = await openVoc(out, 'test', { checkImages: 'quick' });
    const coco = await openCoco(join(out, 'annotations', 'instances_test.json'));
    expect(plain(coco)).toEqual(plain(voc));
    expect(voc.get(0).labels.every((l) => l >= 1 && l <= 10)).toBe(true);
  });
});
