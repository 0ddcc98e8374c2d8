import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from './decode.js';

/** torchvision's ImageNet normalisation (RGB in [0, 1]). */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * RGB uint8 HWC -> float32 NHWC [1, H, W, 3] with torchvision's arithmetic, each step rounded to
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
