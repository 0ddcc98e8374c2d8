import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../data/index.js';

// The README points users at decodeImage (alpha onto white by default, 'black' | 'discard'
// otherwise) to get the RGB pixels that loadClassifier(...).classify and detector.detect take:
// it has to be reachable from the `resdet/data` entry point.
describe('resdet/data entry point', () => {
  it('exports decodeImage with the documented alpha handling', async () => {
    // One pixel of pure red at alpha 0.
    const png = await sharp({
      create: { width: 1, height: 1, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const white = await decodeImage(png);
    expect([white.width, white.height, ...white.data]).toEqual([1, 1, 255, 255, 255]);
    const black = await decodeImage(png, { alpha: 'black' });
    expect([...black.data]).toEqual([0, 0, 0]);
    const kept = await decodeImage(png, { alpha: 'discard' });
    expect([...kept.data]).toEqual([255, 0, 0]);
  });
});
