import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  centerCrop,
  classifyPixels,
  normalizeRgb,
  resizeShorterSide,
} from '../../data/image/classify-transform.js';
import { decodeImage } from '../../data/image/decode.js';

/**
 * Byte-exact agreement with Pillow 9.4 + torchvision 0.14's eval transform (Resize(256) with PIL's
 * bilinear, CenterCrop(224) with Python's half-to-even rounding). Expected hashes were written by
 * Pillow (see pil_eval_transform.json "generator"); cases cover a downscale with a .5 crop offset
 * (500x375 JPEG), an upscale (150x211) and a slight downscale (301x257).
 */
const dir = join(import.meta.dirname, 'fixtures');
const expected = JSON.parse(readFileSync(join(dir, 'pil_eval_transform.json'), 'utf8')) as {
  cases: Record<
    string,
    { decoded_sha256: string; resized_size: [number, number]; resized_sha256: string; cropped_sha256: string }
  >;
};
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('torchvision eval transform', () => {
  for (const [file, want] of Object.entries(expected.cases)) {
    it(`matches Pillow on ${file}`, async () => {
      const img = await decodeImage(join(dir, file));
      expect(sha(img.data), 'decoded pixels').toBe(want.decoded_sha256);
      const resized = resizeShorterSide(img, 256);
      expect([resized.width, resized.height]).toEqual(want.resized_size);
      expect(sha(resized.data), 'resized pixels').toBe(want.resized_sha256);
      const cropped = centerCrop(resized, 224);
      expect(sha(cropped.data), 'cropped pixels').toBe(want.cropped_sha256);
      expect(sha(classifyPixels(img).data)).toBe(want.cropped_sha256);
    });
  }

  it('decodes the torchvision fixture PNG to its published pixel hash', async () => {
    const tv = JSON.parse(
      readFileSync(
        join(import.meta.dirname, '..', 'fixtures', 'torchvision', 'tiny_resnet_expected.json'),
        'utf8',
      ),
    ).images.img0 as { pixels_sha256: string };
    const img = await decodeImage(
      join(import.meta.dirname, '..', 'fixtures', 'torchvision', 'tiny_input_64.png'),
    );
    expect(sha(img.data)).toBe(tv.pixels_sha256);
  });

  it('noResize leaves the pixels alone; normalisation uses float32 steps', () => {
    const img = { data: Uint8Array.from([0, 128, 255, 10, 20, 30]), width: 2, height: 1 };
    expect(classifyPixels(img, { noResize: true })).toBe(img);
    const v = normalizeRgb(img);
    const f = Math.fround;
    expect(v[1]).toBe(f(f(f(128 / 255) - f(0.456)) / f(0.224)));
    expect(v[2]).toBe(f(f(1 - f(0.406)) / f(0.225)));
  });

  it('pads with zeros when the crop is larger than the image', () => {
    const img = { data: new Uint8Array(2 * 2 * 3).fill(7), width: 2, height: 2 };
    const out = centerCrop(img, 4);
    expect(out.width).toBe(4);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(out.data[(1 * 4 + 1) * 3]).toBe(7);
  });
});
