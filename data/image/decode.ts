import { statSync } from 'node:fs';
import sharp from 'sharp';
import { ResdetError } from '../../core/errors.js';

/** Decoded 8-bit RGB pixels, row-major HWC (3 bytes per pixel, no padding). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodeOptions {
  /**
   * Refuse images with more than this many pixels (width x height) before decoding them: the
   * guard against decompression bombs. `false` disables it. Default: sharp's 268 402 689 (~16k^2).
   */
  limitInputPixels?: number | false;
  /**
   * How an alpha channel becomes RGB. `white` (default) composites onto white, as image viewers
   * show a transparent PNG; `black` composites onto black; `discard` drops alpha and keeps the
   * stored colours (what PIL's `convert('RGB')` in a torchvision pipeline does).
   */
  alpha?: 'white' | 'black' | 'discard';
  /** Name used in error messages when `input` is a Buffer (e.g. the uploaded file's name). */
  label?: string;
}

/** Raster formats we accept. Vector and document formats (SVG, PDF) are refused: untrusted input. */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

function describeSharpError(label: string, err: unknown): ResdetError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(msg)) {
    return new ResdetError(
      `${label}: image is too large to decode (${msg})`,
      'resize it first, or raise the pixel limit',
    );
  }
  if (/unsupported image format/i.test(msg)) {
    return new ResdetError(`${label}: not an image in a supported format`, 'use JPEG, PNG or WebP');
  }
  return new ResdetError(`${label}: cannot decode image (${msg})`, 'the file may be truncated or corrupt');
}

/**
 * Decodes a JPEG/PNG/WebP (also GIF, TIFF, HEIF/AVIF) file or buffer to 8-bit RGB: EXIF orientation
 * applied, grayscale and CMYK converted to sRGB, alpha removed as `opts.alpha` says. 16-bit images
 * are reduced to 8 bits. Errors are ResdetErrors that name the file.
 */
export async function decodeImage(input: string | Buffer, opts: DecodeOptions = {}): Promise<RgbImage> {
  const label = opts.label ?? (typeof input === 'string' ? input : '<image buffer>');
  if (typeof input === 'string') {
    const stat = statSync(input, { throwIfNoEntry: false });
    if (!stat) throw new ResdetError(`${label}: file not found`, 'check the image path');
    if (stat.isDirectory()) {
      throw new ResdetError(`${label}: is a directory, not an image`, 'give image files, e.g. DIR/*.jpg');
    }
  }
  const limit = opts.limitInputPixels === undefined ? true : opts.limitInputPixels;
  const open = () => sharp(input, { limitInputPixels: limit, failOn: 'error' });
  let format: string | undefined;
  let hasAlpha = false;
  try {
    const meta = await open().metadata();
    format = meta.format;
    hasAlpha = Boolean(meta.hasAlpha);
  } catch (err) {
    throw describeSharpError(label, err);
  }
  if (!format || !RASTER_FORMATS.has(format)) {
    throw new ResdetError(
      `${label}: unsupported image format "${format ?? 'unknown'}"`,
      'use JPEG, PNG or WebP',
    );
  }
  try {
    let pipeline = open().autoOrient();
    if (hasAlpha) {
      const mode = opts.alpha ?? 'white';
      pipeline =
        mode === 'discard'
          ? pipeline.removeAlpha()
          : pipeline.flatten({ background: mode === 'white' ? '#ffffff' : '#000000' });
    }
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new ResdetError(`${label}: decoded to ${info.channels} channels, expected 3`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    if (err instanceof ResdetError) throw err;
    throw describeSharpError(label, err);
  }
}
