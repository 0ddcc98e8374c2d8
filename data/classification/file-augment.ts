import sharp from 'sharp';
import type { Rng } from '../../core/rng.js';
import { decodeImage } from '../image/decode.js';
import type { Batch, Normalisation } from './augment.js';
import type { FileSet } from './types.js';

/** ImageNet-style augmentation (paper §3.4, after Krizhevsky et al. and Simonyan & Zisserman). */
export interface ScaleAugment {
  /** Shorter side drawn uniformly from [scaleMin, scaleMax] (256..480 in the paper). */
  scaleMin: number;
  scaleMax: number;
  /** Square crop side (224). */
  crop: number;
  flip: boolean;
  /** Std of the PCA colour ("lighting") noise; 0.1 as AlexNet, 0 turns it off. */
  lighting: number;
}

export interface EvalTransform {
  /** Shorter side before cropping (256). */
  resize: number;
  crop: number;
}

// ImageNet RGB covariance eigen-decomposition in [0, 1] units (AlexNet's "standard colour
// augmentation"; the values fb.resnet.torch uses).
const EIGVAL = [0.2175, 0.0188, 0.0045];
const EIGVEC = [
  [-0.5675, 0.7192, 0.4009],
  [-0.5808, -0.0045, -0.814],
  [-0.5836, -0.6948, 0.4203],
];

interface Raw {
  data: Uint8Array;
  width: number;
  height: number;
}

async function resizeShorter(file: string, side: number): Promise<Raw> {
  const img = await decodeImage(file);
  const s = side / Math.min(img.width, img.height);
  const width = Math.max(1, Math.round(img.width * s));
  const height = Math.max(1, Math.round(img.height * s));
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/** Copies a crop x [top, left, side] (optionally flipped) into `out` at `offset`, normalised. */
function writeCrop(
  img: Raw,
  top: number,
  left: number,
  side: number,
  flip: boolean,
  norm: Normalisation,
  light: [number, number, number],
  out: Float32Array,
  offset: number,
): void {
  for (let r = 0; r < side; r++) {
    const sr = Math.min(img.height - 1, top + r);
    for (let c = 0; c < side; c++) {
      const sc = Math.min(img.width - 1, left + (flip ? side - 1 - c : c));
      const i = (sr * img.width + sc) * 3;
      const o = offset + (r * side + c) * 3;
      for (let k = 0; k < 3; k++)
        out[o + k] = (img.data[i + k] / 255 + light[k] - norm.mean[k]) / norm.std[k];
    }
  }
}

function lightingShift(std: number, rng: Rng): [number, number, number] {
  if (std <= 0) return [0, 0, 0];
  const alpha = EIGVAL.map((v) => rng.normal() * std * v);
  return [0, 1, 2].map(
    (k) => EIGVEC[k][0] * alpha[0] + EIGVEC[k][1] * alpha[1] + EIGVEC[k][2] * alpha[2],
  ) as [number, number, number];
}

/** A training batch: random scale, random crop, flip and colour noise per image. */
export async function fileTrainBatch(
  set: FileSet,
  indices: ArrayLike<number>,
  norm: Normalisation,
  aug: ScaleAugment,
  rng: Rng,
): Promise<Batch> {
  const n = indices.length;
  const side = aug.crop;
  const x = new Float32Array(n * side * side * 3);
  const y = new Int32Array(n);
  // Draw every random number up front so the batch does not depend on decode completion order.
  const draws = Array.from(indices, () => ({
    scale: Math.round(rng.uniform(aug.scaleMin, aug.scaleMax + 1 - 1e-9)),
    u: rng.next(),
    v: rng.next(),
    flip: aug.flip && rng.bool(),
    light: lightingShift(aug.lighting, rng),
  }));
  await Promise.all(
    Array.from(indices, async (idx, b) => {
      y[b] = set.labels[idx];
      const d = draws[b];
      const img = await resizeShorter(set.files[idx], Math.max(d.scale, side));
      const top = Math.floor(d.u * (img.height - side + 1));
      const left = Math.floor(d.v * (img.width - side + 1));
      writeCrop(img, top, left, side, d.flip, norm, d.light, x, b * side * side * 3);
    }),
  );
  return { x, y, shape: [n, side, side, 3] };
}

const NO_LIGHT: [number, number, number] = [0, 0, 0];

/**
 * Test-time crops: the centre crop, or the paper's 10-crop (four corners and centre, and their
 * mirrors). With ten crops the batch holds 10 consecutive crops per image.
 */
export async function fileEvalBatch(
  set: FileSet,
  indices: ArrayLike<number>,
  norm: Normalisation,
  t: EvalTransform,
  tenCrop: boolean,
): Promise<Batch> {
  const n = indices.length;
  const side = t.crop;
  const per = tenCrop ? 10 : 1;
  const x = new Float32Array(n * per * side * side * 3);
  const y = new Int32Array(n);
  await Promise.all(
    Array.from(indices, async (idx, b) => {
      y[b] = set.labels[idx];
      const img = await resizeShorter(set.files[idx], Math.max(t.resize, side));
      const cy = Math.floor((img.height - side) / 2);
      const cx = Math.floor((img.width - side) / 2);
      const spots: [number, number][] = tenCrop
        ? [
            [0, 0],
            [0, img.width - side],
            [img.height - side, 0],
            [img.height - side, img.width - side],
            [cy, cx],
          ]
        : [[cy, cx]];
      let k = 0;
      for (const flip of tenCrop ? [false, true] : [false]) {
        for (const [top, left] of spots) {
          writeCrop(img, top, left, side, flip, norm, NO_LIGHT, x, (b * per + k) * side * side * 3);
          k++;
        }
      }
    }),
  );
  return { x, y, shape: [n * per, side, side, 3] };
}
