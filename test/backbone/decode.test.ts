import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeImage } from '../../data/image/decode.js';
import { ResdetError } from '../../core/errors.js';

/** decodeImage: orientation, colour models, alpha policy and the errors a user or the server sees. */

/** A 3x2 RGB image whose pixels are all different. */
const W = 3;
const H = 2;
const pixels = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
const raw = () => sharp(pixels, { raw: { width: W, height: H, channels: 3 } });

async function errorOf(p: Promise<unknown>): Promise<ResdetError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ResdetError);
    return err as ResdetError;
  }
  throw new Error('expected an error');
}

describe('decodeImage', () => {
  it('decodes PNG and WebP (lossless) to the exact RGB bytes', async () => {
    for (const buf of [await raw().png().toBuffer(), await raw().webp({ lossless: true }).toBuffer()]) {
      const img = await decodeImage(buf);
      expect([img.width, img.height]).toEqual([W, H]);
      expect(Buffer.from(img.data)).toEqual(pixels);
    }
  });

  it('applies EXIF orientation (6: rotate 90 degrees clockwise)', async () => {
    const jpeg = await raw().jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(jpeg);
    expect([img.width, img.height]).toEqual([H, W]);
  });

  it('turns grayscale into three equal channels', async () => {
    const gray = await sharp(Buffer.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } })
      .png()
      .toBuffer();
    const img = await decodeImage(gray);
    expect(Array.from(img.data)).toEqual([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
  });

  it('converts CMYK JPEG to RGB', async () => {
    const cmyk = await sharp({
      create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 40 } },
    })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const img = await decodeImage(cmyk);
    expect(img.data.length).toBe(8 * 8 * 3);
    const [r, g, b] = img.data;
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(100);
  });

  it('removes alpha: white (default), black, or discard', async () => {
    // One half-transparent red pixel.
    const rgba = await sharp(Buffer.from([255, 0, 0, 128]), { raw: { width: 1, height: 1, channels: 4 } })
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(rgba)).data)).toEqual([255, 127, 127]);
    expect(Array.from((await decodeImage(rgba, { alpha: 'black' })).data)).toEqual([128, 0, 0]);
    expect(Array.from((await decodeImage(rgba, { alpha: 'discard' })).data)).toEqual([255, 0, 0]);
  });

  it('names the file in every error', async () => {
    expect((await errorOf(decodeImage('/no/such/image.jpg'))).message).toBe(
      '/no/such/image.jpg: file not found',
    );
    const folder = mkdtempSync(join(tmpdir(), 'resdet-decode-dir-'));
    expect((await errorOf(decodeImage(folder))).message).toBe(`${folder}: is a directory, not an image`);
    const corrupt = await errorOf(decodeImage(Buffer.from('not an image at all'), { label: 'upload.jpg' }));
    expect(corrupt.message).toContain('upload.jpg: not an image in a supported format');
    const png = await raw().png().toBuffer();
    const truncated = await errorOf(decodeImage(png.subarray(0, png.length - 20), { label: 'cut.png' }));
    expect(truncated.message).toMatch(/^cut\.png: cannot decode image/);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
    expect((await errorOf(decodeImage(svg, { label: 'x.svg' }))).message).toContain(
      'unsupported image format "svg"',
    );
  });

  it('refuses images above limitInputPixels before decoding them', async () => {
    const big = await sharp({ create: { width: 200, height: 100, channels: 3, background: 'white' } })
      .png()
      .toBuffer();
    const err = await errorOf(decodeImage(big, { limitInputPixels: 19_999, label: 'bomb.png' }));
    expect(err.message).toContain('bomb.png: image is too large to decode');
    expect((await decodeImage(big, { limitInputPixels: 20_000 })).width).toBe(200);
  });
});
