import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ResdetError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';
import { placeFootprints } from './placement.js';
import { addNoise, hsvToRgb, texturedBackground } from './raster.js';
import type { SynthImage, SynthObject } from './shapes.js';

/** Fashion-MNIST's ten classes in label order, as VOC-style names (no spaces or slashes). */
export const FASHION_CLASSES: readonly string[] = [
  'tshirt_top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle_boot',
];

/** Where Debian's dataset-fashion-mnist package puts the idx files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface IdxItems {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

function readIdx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  if (!existsSync(path)) {
    throw new ResdetError(
      `${path}: Fashion-MNIST file not found`,
      "install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist) or pass --fashion-dir",
    );
  }
  const raw = readFileSync(path);
  const buf = path.endsWith('.gz') ? gunzipSync(raw) : raw;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 8 || view.getUint32(0) !== magic) {
    throw new ResdetError(
      `${path}: not an idx file (magic ${buf.byteLength >= 4 ? view.getUint32(0) : '?'}, expected ${magic})`,
    );
  }
  const ndim = magic & 0xff;
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + i * 4));
  const offset = 4 + ndim * 4;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.byteLength < offset + size) throw new ResdetError(`${path}: truncated (${buf.byteLength} bytes)`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, size) };
}

const cache = new Map<string, IdxItems>();

/** Reads the train or t10k half of Fashion-MNIST (idx, optionally gzipped). */
export function readFashionMnist(dir: string, part: 'train' | 't10k'): IdxItems {
  const key = `${dir}:${part}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const find = (name: string) =>
    [join(dir, `${name}.gz`), join(dir, name)].find(existsSync) ?? join(dir, `${name}.gz`);
  const images = readIdx(find(`${part}-images-idx3-ubyte`), 0x803);
  const labels = readIdx(find(`${part}-labels-idx1-ubyte`), 0x801);
  if (images.dims[0] !== labels.dims[0]) {
    throw new ResdetError(`${dir}: ${part} has ${images.dims[0]} images but ${labels.dims[0]} labels`);
  }
  const items = {
    count: images.dims[0],
    rows: images.dims[1],
    cols: images.dims[2],
    pixels: images.data,
    labels: labels.data,
  };
  cache.set(key, items);
  return items;
}

/** Bilinear sample of item k at continuous source coordinates (0 outside the item). */
function sampleItem(items: IdxItems, k: number, sx: number, sy: number): number {
  const { rows, cols, pixels } = items;
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const fx = sx - x0;
  const fy = sy - y0;
  const base = k * rows * cols;
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= cols || y >= rows ? 0 : pixels[base + y * cols + x];
  return (
    at(x0, y0) * (1 - fx) * (1 - fy) +
    at(x0 + 1, y0) * fx * (1 - fy) +
    at(x0, y0 + 1) * (1 - fx) * fy +
    at(x0 + 1, y0 + 1) * fx * fy
  );
}

/**
 * One `fashion` image: 1-4 Fashion-MNIST items, each scaled to 15-60% of the side, tinted a random
 * colour and blended by its own intensity onto a textured background. The box is the bounding box
 * of the item's non-zero pixels as drawn.
 */
export function renderFashionImage(rng: Rng, size: number, items: IdxItems): SynthImage {
  const canvas = texturedBackground(rng, size, size);
  const footprints = placeFootprints(rng, { size, count: [1, 4], scale: [0.15, 0.6], maxOverlap: 0.2 });
  const objects: SynthObject[] = [];
  for (const fp of footprints) {
    const k = rng.int(0, items.count - 1);
    const color = hsvToRgb(rng.next(), rng.uniform(0.4, 1), rng.uniform(0.6, 1));
    const scale = items.cols / (fp[2] - fp[0]);
    let [bx1, by1, bx2, by2] = [size, size, 0, 0];
    const [x0, y0, x1, y1] = [
      Math.floor(fp[0]),
      Math.floor(fp[1]),
      Math.min(size, Math.ceil(fp[2])),
      Math.min(size, Math.ceil(fp[3])),
    ];
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        // Pixel centres map to source coordinates with the half-pixel offsets of area mapping.
        const v = sampleItem(items, k, (x + 0.5 - fp[0]) * scale - 0.5, (y + 0.5 - fp[1]) * scale - 0.5);
        if (v <= 0) continue;
        const a = v / 255;
        const o = (y * size + x) * 3;
        for (let c = 0; c < 3; c++)
          canvas.data[o + c] = Math.round(canvas.data[o + c] * (1 - a) + color[c] * a);
        if (x < bx1) bx1 = x;
        if (y < by1) by1 = y;
        if (x + 1 > bx2) bx2 = x + 1;
        if (y + 1 > by2) by2 = y + 1;
      }
    }
    if (bx2 > bx1 && by2 > by1) objects.push({ label: items.labels[k] + 1, box: [bx1, by1, bx2, by2] });
  }
  addNoise(canvas, rng, rng.uniform(2, 6));
  return { canvas, objects };
}
