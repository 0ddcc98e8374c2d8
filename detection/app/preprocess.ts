import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../../core/checkpoint.js';
import {
  DETECTION_MAX_SIZE,
  DETECTION_MIN_SIZE,
  padBatch,
  type PreparedImage,
  prepareRgb,
} from '../../data/detection/transform.js';
import type { RgbImage } from '../../data/image/decode.js';
import type { ImageBatch } from '../model/faster-rcnn.js';

// The detector's input pipeline is the data pipeline's (data/detection/transform.ts): one
// definition each of the resize rule, the flip, the normalisation and the way back to original
// pixels, so training batches and inference agree.
export { IMAGENET_MEAN, IMAGENET_STD } from '../../data/image/classify-transform.js';
export { boxesToOriginal, type PreparedImage, resizedSize } from '../../data/detection/transform.js';

/** HWC RGB bytes with their size (what decodeImage returns). */
export type RgbInput = RgbImage;

const NO_BOXES = new Float32Array(0);
const NO_LABELS = new Int32Array(0);

/** Resize (bilinear, sharp), optional horizontal flip, normalisation with the model's mean/std. */
export function prepareImage(rgb: RgbInput, pre: Preprocessing, flip = false): Promise<PreparedImage> {
  return prepareRgb(rgb, NO_BOXES, NO_LABELS, {
    minSize: pre.minSize ?? DETECTION_MIN_SIZE,
    maxSize: pre.maxSize ?? DETECTION_MAX_SIZE,
    flip,
    mean: pre.mean,
    std: pre.std,
    channelOrder: pre.channelOrder,
    valueRange: pre.valueRange,
    resize: pre.resize,
  });
}

/** Pads prepared images (zeros after normalisation, as torchvision) into one NHWC batch tensor. */
export function collate(images: PreparedImage[], sizeDivisible: number): ImageBatch {
  const b = padBatch(images, sizeDivisible);
  return { images: tf.tensor4d(b.images, b.shape), imageSizes: b.imageSizes };
}
