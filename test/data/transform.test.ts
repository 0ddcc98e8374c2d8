import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  boxesToOriginal,
  flipBoxes,
  padBatch,
  prepareImageFile,
  prepareRgb,
  resizedSize,
} from '../../data/detection/transform.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../data/image/classify-transform.js';
import { tempDir } from './helpers.js';

const opts = { mean: IMAGENET_MEAN, std: IMAGENET_STD };

/** A gray W x H image with one pure-red rectangle [x1, y1, x2, y2). */
function redBox(w: number, h: number, box: number[]) {
  const data = new Uint8Array(w * h * 3).fill(128);
  for (let y = box[1]; y < box[3]; y++) {
    for (let x = box[0]; x < box[2]; x++) data.set([255, 0, 0], (y * w + x) * 3);
  }
  return { data, width: w, height: h };
}

describe('resize rule', () => {
  it('scales the shorter side to minSize unless the longer would pass maxSize', () => {
    expect(resizedSize(500, 375, 600, 1000)).toEqual([800, 600]);
    expect(resizedSize(375, 500, 600, 1000)).toEqual([600, 800]);
    expect(resizedSize(2000, 500, 600, 1000)).toEqual([1000, 250]);
  });
});

describe('prepareRgb', () => {
  it('normalises with mean/std on [0, 1] and scales boxes with the image', async () => {
    const img = redBox(40, 20, [10, 5, 20, 15]);
    const p = await prepareRgb(img, Float32Array.from([10, 5, 20, 15]), Int32Array.from([1]), {
      ...opts,
      minSize: 40,
      maxSize: 1000,
      flip: false,
    });
    expect([p.width, p.height, p.scaleX, p.scaleY]).toEqual([80, 40, 2, 2]);
    expect(Array.from(p.boxes)).toEqual([20, 10, 40, 30]);
    // Centre of the red box, well inside it after bilinear resizing.
    const o = (20 * 80 + 30) * 3;
    expect(p.data[o]).toBeCloseTo((1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], 5);
    expect(p.data[o + 1]).toBeCloseTo((0 - IMAGENET_MEAN[1]) / IMAGENET_STD[1], 5);
    expect(Array.from(boxesToOriginal(p.boxes, p))).toEqual([10, 5, 20, 15]);
  });

  it('flips pixels and boxes together', async () => {
    const img = redBox(30, 10, [2, 1, 9, 8]);
    const p = await prepareRgb(img, Float32Array.from([2, 1, 9, 8]), Int32Array.from([3]), {
      ...opts,
      minSize: 10,
      maxSize: 1000,
      flip: true,
    });
    expect(p.flipped).toBe(true);
    expect(Array.from(p.boxes)).toEqual([21, 1, 28, 8]);
    // Red normalises to (1 - 0.485) / 0.229 = 2.25 in channel 0, gray 128 to about 0.07.
    for (let x = 0; x < 30; x++) {
      const inside = x >= 21 && x < 28;
      expect(p.data[(4 * 30 + x) * 3] > 2 ? 'red' : 'gray').toBe(inside ? 'red' : 'gray');
    }
    expect(Array.from(flipBoxes(flipBoxes(p.boxes, 30), 30))).toEqual(Array.from(p.boxes));
  });
});

describe('padBatch', () => {
  it('pads to the largest size rounded up to the divisor, with zeros outside each image', async () => {
    const a = await prepareRgb(redBox(20, 10, [0, 0, 1, 1]), new Float32Array(0), new Int32Array(0), {
      ...opts,
      minSize: 10,
      maxSize: 100,
      flip: false,
    });
    const b = await prepareRgb(redBox(10, 30, [0, 0, 1, 1]), new Float32Array(0), new Int32Array(0), {
      ...opts,
      minSize: 10,
      maxSize: 100,
      flip: false,
    });
    const batch = padBatch([a, b], 32);
    expect(batch.shape).toEqual([2, 32, 32, 3]);
    expect(batch.imageSizes).toEqual([
      [10, 20],
      [30, 10],
    ]);
    const at = (n: number, y: number, x: number) => batch.images[((n * 32 + y) * 32 + x) * 3 + 1];
    expect(at(0, 9, 19)).toBe(a.data[(9 * 20 + 19) * 3 + 1]);
    expect(at(0, 10, 5)).toBe(0);
    expect(at(0, 5, 20)).toBe(0);
    expect(at(1, 29, 9)).toBe(b.data[(29 * 10 + 9) * 3 + 1]);
    expect(at(1, 29, 10)).toBe(0);
    expect(padBatch([a, b]).shape).toEqual([2, 30, 20, 3]);
  });
});

describe('prepareImageFile and EXIF orientation', () => {
  it('follows EXIF unless the annotation matches the stored orientation', async () => {
    const path = join(tempDir(), 'rotated.jpg');
    // Stored 40 x 20 with orientation 6 (shown rotated 90 degrees: 20 x 40).
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#336699' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(path);
    expect((await sharp(path).metadata()).orientation).toBe(6);
    const o = { ...opts, minSize: 20, maxSize: 1000, flip: false };
    const none = new Float32Array(0);
    const labels = new Int32Array(0);
    const shown = await prepareImageFile(path, none, labels, o, { width: 20, height: 40 });
    expect([shown.width, shown.height]).toEqual([20, 40]);
    const stored = await prepareImageFile(path, none, labels, o, { width: 40, height: 20 });
    expect([stored.width, stored.height]).toEqual([40, 20]);
    await expect(prepareImageFile(path, none, labels, o, { width: 30, height: 30 })).rejects.toThrow(
      /annotation says 30x30/,
    );
  });
});
