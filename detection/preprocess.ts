import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { Preprocessing } from '../core/checkpoint.js';
import { resizedSize } from '../data/detection/transform.js';
import type { ImageBatch } from './model/faster-rcnn.js';

// One definition each of the normalisation, the size rule and the way back to original pixels,
// shared with the data pipeline (data/detection/transform.ts) so training data and inference agree.
export { IMAGENET_MEAN, IMAGENET_STD } from '../data/image/classify-transform.js';
export { boxesToOriginal, resizedSize } from '../data/detection/transform.js';

export interface RgbInput {
  /** HWC RGB bytes. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** One image resized, maybe flipped and normalised, ready to batch. */
export interface PreparedImage {
  /** HWC float32, normalised. */
  data: Float32Array;
  height: number;
  width: number;
  /** Resized over original size per axis: original box * scale = resized box. */
  scaleX: number;
  scaleY: number;
  originalWidth: number;
  originalHeight: number;
  flipped: boolean;
}

/** Resize (bilinear, sharp), optional horizontal flip, normalisation with the model's mean/std. */
export async function prepareImage(rgb: RgbInput, pre: Preprocessing, flip = false): Promise<PreparedImage> {
  const minSize = pre.minSize ?? 600;
  const maxSize = pre.maxSize ?? 1000;
  const [w, h] = resizedSize(rgb.width, rgb.height, minSize, maxSize);
  let pixels: Uint8Array = rgb.data;
  if (w !== rgb.width || h !== rgb.height || flip) {
    let img = sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });
    if (w !== rgb.width || h !== rgb.height) img = img.resize(w, h, { fit: 'fill', kernel: 'linear' });
    if (flip) img = img.flop();
    const buf = await img.raw().toBuffer();
    pixels = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const data = new Float32Array(w * h * 3);
  const scale = pre.std.map((s) => 1 / (255 * s));
  const shift = pre.mean.map((m, c) => m / pre.std[c]);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) data[3 * i + c] = pixels[3 * i + c] * scale[c] - shift[c];
  }
  return {
    data,
    height: h,
    width: w,
    scaleX: w / rgb.width,
    scaleY: h / rgb.height,
    originalWidth: rgb.width,
    originalHeight: rgb.height,
    flipped: flip,
  };
}

/** Boxes of the original image mapped into a prepared image (scaled, mirrored when flipped). */
export function boxesToPrepared(boxes: Float32Array, img: PreparedImage): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const x1 = boxes[i] * img.scaleX;
    const x2 = boxes[i + 2] * img.scaleX;
    out[i] = img.flipped ? img.width - x2 : x1;
    out[i + 1] = boxes[i + 1] * img.scaleY;
    out[i + 2] = img.flipped ? img.width - x1 : x2;
    out[i + 3] = boxes[i + 3] * img.scaleY;
  }
  return out;
}

/** Pads prepared images (zeros after normalisation, as torchvision) into one NHWC batch. */
export function collate(images: PreparedImage[], sizeDivisible: number): ImageBatch {
  const round = (v: number) => Math.ceil(v / sizeDivisible) * sizeDivisible;
  const H = round(Math.max(...images.map((i) => i.height)));
  const W = round(Math.max(...images.map((i) => i.width)));
  const data = new Float32Array(images.length * H * W * 3);
  images.forEach((img, n) => {
    for (let y = 0; y < img.height; y++) {
      data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), (n * H + y) * W * 3);
    }
  });
  return {
    images: tf.tensor4d(data, [images.length, H, W, 3]),
    imageSizes: images.map((i) => [i.height, i.width] as [number, number]),
  };
}
