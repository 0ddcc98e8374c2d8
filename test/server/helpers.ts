import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import type { Express } from 'express';
import sharp from 'sharp';
import type {
  Classification,
  ClassifierService,
  Detection,
  DetectorService,
  Models,
  RgbImage,
} from '../../server/services.js';

/** Listens on an ephemeral 127.0.0.1 port; `close` also drops keep-alive connections. */
export async function listen(
  app: Express,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function solidPng(
  width: number,
  height: number,
  rgb: [number, number, number],
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

export async function solidJpeg(
  width: number,
  height: number,
  rgb: [number, number, number],
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg()
    .toBuffer();
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A genuine decompression bomb: a 1-bit greyscale PNG of width x height whose IDAT really holds
 * every (all-zero) row, so a decoder that trusted it would inflate ~width*height/8 bytes and then
 * expand them to width*height*3 bytes of RGB. 50,000 x 50,000 is ~300 KB on disk, 312 MB inflated,
 * 7.5 GB as RGB.
 */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  // Every row is zeros (filter 0, black pixels), so the raw stream is one long run of zeros.
  const raw = Buffer.alloc(rowBytes * height);
  const idat = deflateSync(raw, { level: 9 });
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

export const COLOURS = ['red', 'green', 'blue'] as const;

function meanRgb(image: RgbImage): [number, number, number] {
  const sums = [0, 0, 0];
  for (let i = 0; i < image.data.length; i += 3) {
    sums[0] += image.data[i];
    sums[1] += image.data[i + 1];
    sums[2] += image.data[i + 2];
  }
  const n = image.width * image.height;
  return [sums[0] / n, sums[1] / n, sums[2] / n];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FakeOptions {
  /** Delay before answering, ms: a number, or a function of the image for random interleaving. */
  delayMs?: number | ((image: RgbImage) => number);
  /** Counts calls, to check models are shared and decoding stops early. */
  calls?: { detect: number; classify: number };
}

/**
 * Fake models whose answers are a function of the pixels, so a mixed-up response is visible: the
 * classifier ranks the colour channels by their mean; the detector puts a box of the dominant colour
 * over the whole image (score 0.95), one over its centre quarter (0.6) and one in its top-left
 * corner (0.3).
 */
export function fakeModels(opts: FakeOptions = {}): Models {
  const delay = (image: RgbImage) =>
    typeof opts.delayMs === 'function' ? opts.delayMs(image) : (opts.delayMs ?? 0);
  const preprocessing = {
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    minSize: 64,
    maxSize: 128,
  };
  const classifier: ClassifierService = {
    info: { name: 'fake-classifier', kind: 'classifier', arch: 'fake', classes: [...COLOURS], preprocessing },
    async classify(image, { topk }) {
      if (opts.calls) opts.calls.classify++;
      await sleep(delay(image));
      const mean = meanRgb(image);
      const total = mean[0] + mean[1] + mean[2] || 1;
      const all: Classification[] = mean.map((m, index) => ({
        index,
        label: COLOURS[index],
        prob: m / total,
        logit: m / 255,
      }));
      return all.sort((a, b) => b.prob - a.prob).slice(0, topk);
    },
  };
  const detector: DetectorService = {
    info: { name: 'fake-detector', kind: 'detector', arch: 'fake', classes: [...COLOURS], preprocessing },
    categoryIds: [3, 7, 44],
    async detect(image, { scoreThreshold, maxDetections }) {
      if (opts.calls) opts.calls.detect++;
      await sleep(delay(image));
      const mean = meanRgb(image);
      const dominant = mean.indexOf(Math.max(...mean));
      const { width: w, height: h } = image;
      const all: Detection[] = [
        { box: [0, 0, w, h], label: COLOURS[dominant], labelIndex: dominant, score: 0.95 },
        { box: [w / 4, h / 4, (3 * w) / 4, (3 * h) / 4], label: 'green', labelIndex: 1, score: 0.6 },
        { box: [0, 0, w / 8, h / 8], label: 'blue', labelIndex: 2, score: 0.3 },
      ];
      return all.filter((d) => d.score >= scoreThreshold).slice(0, maxDetections);
    },
  };
  return { detector, classifier };
}

export async function postImage(
  url: string,
  bytes: Buffer,
  opts: { multipart?: boolean; type?: string; filename?: string } = {},
): Promise<Response> {
  if (opts.multipart) {
    const form = new FormData();
    form.append(
      'image',
      new Blob([new Uint8Array(bytes)], { type: opts.type ?? 'image/png' }),
      opts.filename ?? 'image.png',
    );
    return fetch(url, { method: 'POST', body: form });
  }
  return fetch(url, {
    method: 'POST',
    body: new Uint8Array(bytes),
    headers: { 'content-type': opts.type ?? 'image/png' },
  });
}

export interface ErrorJson {
  error: { status: number; code: string; message: string; hint?: string };
}
