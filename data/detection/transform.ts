import sharp from 'sharp';
import type { Preprocessing } from '../../core/checkpoint.js';
import { ResdetError } from '../../core/errors.js';
import type { Normalization } from '../../core/normalization.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../image/classify-transform.js';
import { decodeImage, type RgbImage } from '../image/decode.js';
import { pilResizeBilinear, shortestEdgeSize } from '../image/pil-resize.js';

/**
 * The detection image pipeline: decode (EXIF orientation, gray/CMYK/alpha -> RGB, via
 * data/image/decode), resize so the shorter side is `minSize` with the longer at most `maxSize`
 * (the paper's 600/1000), optional horizontal flip (boxes mirrored with it), normalise with the
 * backbone's mean/std on RGB in [0, 1], and pad a batch to a common size.
 */

/** The paper's Faster R-CNN scale: shorter side 600 px, longer side at most 1000 px. */
export const DETECTION_MIN_SIZE = 600;
export const DETECTION_MAX_SIZE = 1000;

/** The paper's Faster R-CNN scale with ImageNet normalisation. */
export const DETECTION_PREPROCESSING: Preprocessing = {
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  minSize: DETECTION_MIN_SIZE,
  maxSize: DETECTION_MAX_SIZE,
};

/** [width, height] after scaling the shorter side to minSize, capped so the longer is <= maxSize. */
export function resizedSize(
  width: number,
  height: number,
  minSize: number,
  maxSize: number,
): [number, number] {
  const scale = Math.min(minSize / Math.min(width, height), maxSize / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/** One image ready to batch: HWC float32 normalised pixels and its targets in its own pixels. */
export interface PreparedImage {
  data: Float32Array;
  width: number;
  height: number;
  /** Resized over original size per axis: original box * scale = resized box. */
  scaleX: number;
  scaleY: number;
  originalWidth: number;
  originalHeight: number;
  flipped: boolean;
  /** Target boxes scaled (and mirrored when flipped) into this image; labels unchanged. */
  boxes: Float32Array;
  labels: Int32Array;
}

export interface PrepareOptions extends Normalization {
  minSize: number;
  maxSize: number;
  flip: boolean;
  /** detectron2's conventions (see Preprocessing): BGR, mean/std on 0..255, Pillow's resize. */
  channelOrder?: Preprocessing['channelOrder'];
  valueRange?: Preprocessing['valueRange'];
  resize?: Preprocessing['resize'];
}

/** Boxes of a width-W image mirrored left-right; exclusive-style x2 makes this exact: x' = W - x. */
export function flipBoxes(boxes: Float32Array, width: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = width - boxes[i + 2];
    out[i + 1] = boxes[i + 1];
    out[i + 2] = width - boxes[i];
    out[i + 3] = boxes[i + 3];
  }
  return out;
}

export function scaleBoxes(boxes: Float32Array, scaleX: number, scaleY: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i] * scaleX;
    out[i + 1] = boxes[i + 1] * scaleY;
    out[i + 2] = boxes[i + 2] * scaleX;
    out[i + 3] = boxes[i + 3] * scaleY;
  }
  return out;
}

/** Detections in a prepared image (unflipped) mapped back to the original image, clipped to it. */
export function boxesToOriginal(
  boxes: Float32Array,
  img: Pick<PreparedImage, 'scaleX' | 'scaleY' | 'originalWidth' | 'originalHeight'>,
): Float32Array {
  const out = new Float32Array(boxes.length);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = clip(boxes[i] / img.scaleX, img.originalWidth);
    out[i + 1] = clip(boxes[i + 1] / img.scaleY, img.originalHeight);
    out[i + 2] = clip(boxes[i + 2] / img.scaleX, img.originalWidth);
    out[i + 3] = clip(boxes[i + 3] / img.scaleY, img.originalHeight);
  }
  return out;
}

/** Resizes (bilinear), flips and normalises decoded pixels; boxes follow the image. */
export async function prepareRgb(
  rgb: RgbImage,
  boxes: Float32Array,
  labels: Int32Array,
  opts: PrepareOptions,
): Promise<PreparedImage> {
  const pil = opts.resize === 'pil-bilinear';
  const [w, h] = (pil ? shortestEdgeSize : resizedSize)(rgb.width, rgb.height, opts.minSize, opts.maxSize);
  let pixels = rgb.data;
  if (pil && (w !== rgb.width || h !== rgb.height)) {
    pixels = pilResizeBilinear(rgb.data, rgb.width, rgb.height, w, h);
  }
  if (pil && opts.flip) {
    const buf = await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
      .flop()
      .raw()
      .toBuffer();
    pixels = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } else if (!pil && (w !== rgb.width || h !== rgb.height || opts.flip)) {
    let img = sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });
    if (w !== rgb.width || h !== rgb.height) img = img.resize(w, h, { fit: 'fill', kernel: 'linear' });
    if (opts.flip) img = img.flop();
    const buf = await img.raw().toBuffer();
    pixels = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const data = new Float32Array(w * h * 3);
  const range = opts.valueRange === '0-255' ? 1 : 255;
  const mul = opts.std.map((s) => 1 / (range * s));
  const add = opts.mean.map((m, c) => -m / opts.std[c]);
  // Channel c of the network's input comes from pixel channel src[c] (BGR: reversed).
  const src = opts.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let i = 0; i < w * h * 3; i += 3) {
    data[i] = pixels[i + src[0]] * mul[0] + add[0];
    data[i + 1] = pixels[i + src[1]] * mul[1] + add[1];
    data[i + 2] = pixels[i + src[2]] * mul[2] + add[2];
  }
  const scaleX = w / rgb.width;
  const scaleY = h / rgb.height;
  const scaled = scaleBoxes(boxes, scaleX, scaleY);
  return {
    data,
    width: w,
    height: h,
    scaleX,
    scaleY,
    originalWidth: rgb.width,
    originalHeight: rgb.height,
    flipped: opts.flip,
    boxes: opts.flip ? flipBoxes(scaled, w) : scaled,
    labels,
  };
}

/**
 * Decodes an image file and prepares it. `expected` is the annotation's size: an image that
 * decodes to another size would misplace every box, so that is an error naming the file.
 */
export async function prepareImageFile(
  path: string,
  boxes: Float32Array,
  labels: Int32Array,
  opts: PrepareOptions,
  expected?: { width: number; height: number },
): Promise<PreparedImage> {
  let rgb = await decodeImage(path);
  if (
    expected &&
    rgb.width === expected.height &&
    rgb.height === expected.width &&
    rgb.width !== rgb.height
  ) {
    // An EXIF-rotated photo annotated in its stored orientation (tools that ignore EXIF, e.g.
    // PIL as torchvision uses it, made COCO's and VOC's boxes): use the stored pixels then.
    rgb = await decodeStoredOrientation(path);
  }
  if (expected && (rgb.width !== expected.width || rgb.height !== expected.height)) {
    throw new ResdetError(
      `${path}: image is ${rgb.width}x${rgb.height} but its annotation says ${expected.width}x${expected.height}`,
      'fix the annotation or the image (EXIF rotation?), or pass --skip-bad',
    );
  }
  return prepareRgb(rgb, boxes, labels, opts);
}

/** Decodes without applying EXIF orientation (alpha dropped, as PIL's convert('RGB')). */
async function decodeStoredOrientation(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path, { failOn: 'error' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/** A padded batch in NHWC order, with what is needed to map detections back to each image. */
export interface DetectionBatch {
  /** N x H x W x 3, zero outside each image's [0, height) x [0, width) (zero = the mean colour). */
  images: Float32Array;
  shape: [number, number, number, number];
  /** [height, width] of each resized image inside the padding. */
  imageSizes: Array<[number, number]>;
  /** [height, width] of each original image. */
  originalSizes: Array<[number, number]>;
  /** [scaleY, scaleX]: original * scale = resized. */
  scales: Array<[number, number]>;
  flipped: boolean[];
  /** Training targets per image, in resized (and flipped) pixels. */
  boxes: Float32Array[];
  labels: Int32Array[];
}

/** Pads prepared images to the largest height and width (rounded up to a multiple of `sizeDivisible`). */
export function padBatch(images: PreparedImage[], sizeDivisible = 1): DetectionBatch {
  const round = (v: number) => Math.ceil(v / sizeDivisible) * sizeDivisible;
  const H = round(Math.max(...images.map((i) => i.height)));
  const W = round(Math.max(...images.map((i) => i.width)));
  const out = new Float32Array(images.length * H * W * 3);
  images.forEach((img, n) => {
    for (let y = 0; y < img.height; y++) {
      out.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), (n * H + y) * W * 3);
    }
  });
  return {
    images: out,
    shape: [images.length, H, W, 3],
    imageSizes: images.map((i) => [i.height, i.width]),
    originalSizes: images.map((i) => [i.originalHeight, i.originalWidth]),
    scales: images.map((i) => [i.scaleY, i.scaleX]),
    flipped: images.map((i) => i.flipped),
    boxes: images.map((i) => i.boxes),
    labels: images.map((i) => i.labels),
  };
}
