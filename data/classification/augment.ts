import type { Normalization } from '../../core/normalization.js';
import type { Rng } from '../../core/rng.js';
import type { MemorySet } from './types.js';

/** A batch ready for the network: NHWC float32 pixels, normalised, and int labels. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  /** [n, height, width, channels] */
  shape: [number, number, number, number];
}

/** The pretraining code's name for core's Normalization (one type). */
export type Normalisation = Normalization;

/** Per-channel mean and std of a memory set (its training split), in [0, 1] units. */
export function channelStats(set: MemorySet): Normalisation {
  const c = set.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const px = set.pixels;
  for (let i = 0; i < px.length; i++) {
    const v = px[i] / 255;
    sum[i % c] += v;
    sq[i % c] += v * v;
  }
  const n = px.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(1e-12, s / n - mean[k] * mean[k])));
  return { mean, std };
}

/** The paper's CIFAR augmentation (§4.2): pad by `pad` zeros, random crop back, random flip. */
export interface SmallAugment {
  pad: number;
  flip: boolean;
}

/**
 * Writes image `idx` of `set`, normalised, into `out` at `offset`, shifted by (dy, dx) with zero
 * pixels where the shift leaves the image (the paper pads the raw image with zeros) and mirrored
 * when `flip`. A shift of up to `pad` and same-size output is a crop of the padded image.
 */
export function writeShifted(
  set: MemorySet,
  idx: number,
  norm: Normalisation,
  dy: number,
  dx: number,
  flip: boolean,
  out: Float32Array,
  offset: number,
): void {
  const { height: h, width: w, channels: c } = set;
  const src = idx * h * w * c;
  for (let k = 0; k < c; k++) {
    const scale = 1 / (255 * norm.std[k]);
    const shift = -norm.mean[k] / norm.std[k];
    for (let r = 0; r < h; r++) {
      const sr = r + dy;
      for (let col = 0; col < w; col++) {
        const sc = (flip ? w - 1 - col : col) + dx;
        const o = offset + (r * w + col) * c + k;
        out[o] =
          sr < 0 || sr >= h || sc < 0 || sc >= w
            ? shift
            : set.pixels[src + (sr * w + sc) * c + k] * scale + shift;
      }
    }
  }
}

/**
 * Builds a batch from a memory set. With `augment`, each image is cropped from the zero-padded
 * image at a random offset and flipped with probability 1/2, all drawn from `rng`, so a batch is a
 * pure function of (indices, rng state).
 */
export function memoryBatch(
  set: MemorySet,
  indices: ArrayLike<number>,
  norm: Normalisation,
  augment: SmallAugment | null,
  rng: Rng,
): Batch {
  const { height: h, width: w, channels: c } = set;
  const n = indices.length;
  const stride = h * w * c;
  const x = new Float32Array(n * stride);
  const y = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    const idx = indices[b];
    y[b] = set.labels[idx];
    let dy = 0;
    let dx = 0;
    let flip = false;
    if (augment) {
      dy = rng.int(-augment.pad, augment.pad);
      dx = rng.int(-augment.pad, augment.pad);
      flip = augment.flip && rng.bool();
    }
    writeShifted(set, idx, norm, dy, dx, flip, x, b * stride);
  }
  return { x, y, shape: [n, h, w, c] };
}
