import type { Request, Response } from 'express';
import express from 'express';
import multer from 'multer';
import sharp, { type Metadata } from 'sharp';
import { decodeImage } from '../data/image/decode.js';
import { ResdetError } from '../core/errors.js';
import { HttpError, tooLarge } from './http-error.js';
import type { RgbImage } from './services.js';

/** Formats the server decodes. Vector/document formats (SVG, PDF) are refused: untrusted input. */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

export interface ImageLimits {
  maxBodyBytes: number;
  /** width x height above which an image is refused from its header, before any pixel is decoded. */
  maxPixels: number;
}

/** An uploaded image whose header has been checked; decoding happens later, inside a queue slot. */
export interface CheckedImage {
  bytes: Buffer;
  format: string;
  width: number;
  height: number;
}

function parseContentLength(req: Request): number | undefined {
  const raw = req.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

function runMiddleware(
  mw: (req: Request, res: Response, next: (err?: unknown) => void) => void,
  req: Request,
  res: Response,
): Promise<void> {
  return new Promise((resolve, reject) => mw(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}

/**
 * Reads the image bytes of a classify/detect request: multipart field `image`, or the raw body
 * when the Content-Type is image/* or application/octet-stream. Both paths stop reading at the
 * body limit (413).
 */
export function makeImageReader(limits: ImageLimits): (req: Request, res: Response) => Promise<Buffer> {
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.maxBodyBytes, files: 1, fields: 16, parts: 20, fieldSize: 64 * 1024 },
  }).single('image');
  const raw = express.raw({ type: () => true, limit: limits.maxBodyBytes });

  return async (req, res) => {
    const length = parseContentLength(req);
    // Refuse a declared-too-large body before reading a byte of it.
    if (length !== undefined && length > limits.maxBodyBytes + 64 * 1024) throw tooLarge(limits.maxBodyBytes);
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('multipart/form-data')) {
      await runMiddleware(upload, req, res);
      const file = (req as Request & { file?: Express.Multer.File }).file;
      if (!file)
        throw new HttpError(400, 'missing_image', 'no file in the multipart field "image"', {
          hint: 'send the image as multipart/form-data with the field name "image"',
        });
      return file.buffer;
    }
    if (type.startsWith('image/') || type.startsWith('application/octet-stream')) {
      await runMiddleware(raw, req, res);
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw new HttpError(400, 'missing_image', 'the request body is empty', {
          hint: 'send the image bytes as the body',
        });
      return body;
    }
    throw new HttpError(
      415,
      'unsupported_media_type',
      `cannot read an image from Content-Type "${type || '(none)'}"`,
      {
        hint: 'send multipart/form-data with a field "image", or the raw bytes with Content-Type image/jpeg, image/png, ...',
      },
    );
  };
}

/**
 * Reads only the image's header: refuses what is not a raster image (415), what is unreadable
 * (400) and what would decode to more than `maxPixels` pixels (400), so a decompression bomb is
 * never decompressed.
 */
export async function checkImage(bytes: Buffer, maxPixels: number): Promise<CheckedImage> {
  let meta: Metadata;
  try {
    // The header alone: libvips does not decode pixels for metadata().
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/unsupported image format/i.test(msg))
      throw new HttpError(415, 'not_an_image', 'the body is not an image in a supported format', {
        hint: 'send JPEG, PNG, WebP, GIF, TIFF or AVIF',
      });
    throw new HttpError(
      400,
      'corrupt_image',
      'the image header cannot be read: the file may be truncated or corrupt',
    );
  }
  if (!meta.format || !RASTER_FORMATS.has(meta.format))
    throw new HttpError(415, 'not_an_image', `unsupported image format "${meta.format ?? 'unknown'}"`, {
      hint: 'send JPEG, PNG, WebP, GIF, TIFF or AVIF',
    });
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!(width > 0 && height > 0))
    throw new HttpError(400, 'corrupt_image', 'the image header gives no size: the file may be corrupt');
  if (width * height > maxPixels)
    throw new HttpError(
      400,
      'image_too_large',
      `image is ${width} x ${height} = ${width * height} pixels, over the limit of ${maxPixels}; not decoded`,
      { hint: 'downscale the image before sending it' },
    );
  return { bytes, format: meta.format, width, height };
}

/** Decodes a checked image to RGB (EXIF orientation applied); corrupt pixel data is a 400. */
export async function decodeChecked(image: CheckedImage, maxPixels: number): Promise<RgbImage> {
  try {
    return await decodeImage(image.bytes, { limitInputPixels: maxPixels, label: 'uploaded image' });
  } catch (err) {
    if (err instanceof ResdetError)
      throw new HttpError(400, 'corrupt_image', err.message, {
        hint: 'the file may be truncated or corrupt',
      });
    throw err;
  }
}
