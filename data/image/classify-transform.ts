import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from './decode.js';

/**
 * torchvision's classification eval transform, reproduced to the byte on uint8 RGB:
 * Resize(shorter side) with PIL's antialiased bilinear filter, CenterCrop, ToTensor, Normalize.
 * PIL's resampling is re-implemented here (separable triangle filter widened by the scale factor,
 * 22-bit fixed-point coefficients, horizontal pass then vertical, uint8 between the passes) because
 * libvips' linear kernel rounds differently and would move logits by more than parity allows.
 */

import { IMAGENET_MEAN, IMAGENET_STD, type Normalization } from '../../core/normalization.js';

export { IMAGENET_MEAN, IMAGENET_STD, type Normalization };

export interface ClassifyTransformOptions extends Partial<Normalization> {
  /** Side of the centre crop (the network's input): 224 for ImageNet nets. */
  crop?: number;
  /** Shorter side after resizing; default round(crop * 8 / 7), i.e. 256 for 224. */
  resize?: number;
  /** Feed the image as it is: no resize, no crop (only normalisation). */
  noResize?: boolean;
}

const PRECISION_BITS = 32 - 8 - 2;

interface Coeffs {
  ksize: number;
  /** Per output index: first input index and count. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output index. */
  weights: Int32Array;
}

/** PIL's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter. */
function bilinearCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      const scaled = w * (1 << PRECISION_BITS);
      weights[xx * ksize + x] = Math.trunc(w < 0 ? scaled - 0.5 : scaled + 0.5);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(v: number): number {
  if (v >= 1 << (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / (1 << PRECISION_BITS));
}

/** One separable pass along x (`horizontal`) or y, as PIL's ImagingResample{Horizontal,Vertical}_8bpc. */
function resamplePass(src: RgbImage, outW: number, outH: number, horizontal: boolean): RgbImage {
  const c = horizontal ? bilinearCoeffs(src.width, outW) : bilinearCoeffs(src.height, outH);
  const out = new Uint8Array(outW * outH * 3);
  const half = 1 << (PRECISION_BITS - 1);
  const srcRow = src.width * 3;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const min = c.bounds[o * 2];
      const count = c.bounds[o * 2 + 1];
      const kOff = o * c.ksize;
      let s0 = half;
      let s1 = half;
      let s2 = half;
      for (let i = 0; i < count; i++) {
        const w = c.weights[kOff + i];
        const p = horizontal ? y * srcRow + (min + i) * 3 : (min + i) * srcRow + x * 3;
        s0 += src.data[p] * w;
        s1 += src.data[p + 1] * w;
        s2 += src.data[p + 2] * w;
      }
      const q = (y * outW + x) * 3;
      out[q] = clip8(s0);
      out[q + 1] = clip8(s1);
      out[q + 2] = clip8(s2);
    }
  }
  return { data: out, width: outW, height: outH };
}

/** PIL's `Image.resize((w, h), BILINEAR)` on an RGB image (identity when the size is unchanged). */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  let out = img;
  if (width !== img.width) out = resamplePass(out, width, out.height, true);
  if (height !== img.height) out = resamplePass(out, width, height, false);
  return out;
}

/** torchvision's Resize(size) for one int: the shorter side becomes `size`, the longer int(size * long / short). */
export function resizeShorterSide(img: RgbImage, size: number): RgbImage {
  const { width: w, height: h } = img;
  const [short, long] = w <= h ? [w, h] : [h, w];
  if (short === size) return img;
  const newLong = Math.trunc((size * long) / short);
  return w <= h ? resizeBilinear(img, size, newLong) : resizeBilinear(img, newLong, size);
}

/** Python's round(): half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision's CenterCrop(size): zero padding when the image is smaller, offsets round half to even. */
export function centerCrop(img: RgbImage, size: number): RgbImage {
  let src = img;
  if (size > img.width || size > img.height) {
    const padW = Math.max(size - img.width, 0);
    const padH = Math.max(size - img.height, 0);
    const left = Math.floor(padW / 2);
    const top = Math.floor(padH / 2);
    const width = img.width + padW;
    const height = img.height + padH;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < img.height; y++) {
      data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * width + left) * 3);
    }
    src = { data, width, height };
  }
  const top = roundHalfEven((src.height - size) / 2);
  const left = roundHalfEven((src.width - size) / 2);
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const start = ((y + top) * src.width + left) * 3;
    data.set(src.data.subarray(start, start + size * 3), y * size * 3);
  }
  return { data, width: size, height: size };
}

/**
 * RGB uint8 HWC -> float32 NHWC values with torchvision's arithmetic, each step rounded to
 * float32 as torch does: x = float32(p / 255); (x - mean[c]) / std[c].
 */
export function normalizeRgb(
  img: RgbImage,
  norm: Normalization = { mean: IMAGENET_MEAN, std: IMAGENET_STD },
): Float32Array {
  const { data, width, height } = img;
  const out = new Float32Array(width * height * 3);
  const mean = norm.mean.map(Math.fround);
  const std = norm.std.map(Math.fround);
  for (let i = 0; i < out.length; i++) {
    const c = i % 3;
    out[i] = Math.fround(Math.fround(data[i] / 255) - mean[c]) / std[c];
  }
  return out;
}

/** The normalised image as a [1, H, W, 3] tensor. */
export function rgbToTensor(img: RgbImage, norm?: Normalization): tf.Tensor4D {
  return tf.tensor4d(normalizeRgb(img, norm), [1, img.height, img.width, 3]);
}

/** The default resize for a crop: 256 for 224 (torchvision's ImageNet ratio). */
export function defaultResize(crop: number): number {
  return Math.round((crop * 256) / 224);
}

/** The pixels the network sees: resized and centre-cropped (or untouched with noResize). */
export function classifyPixels(img: RgbImage, opts: ClassifyTransformOptions = {}): RgbImage {
  if (opts.noResize) return img;
  const crop = opts.crop ?? 224;
  return centerCrop(resizeShorterSide(img, opts.resize ?? defaultResize(crop)), crop);
}

/** The whole eval transform: [1, crop, crop, 3] float32 (or the image's own size with noResize). */
export function classifyTransform(img: RgbImage, opts: ClassifyTransformOptions = {}): tf.Tensor4D {
  const norm = { mean: opts.mean ?? IMAGENET_MEAN, std: opts.std ?? IMAGENET_STD };
  return rgbToTensor(classifyPixels(img, opts), norm);
}
