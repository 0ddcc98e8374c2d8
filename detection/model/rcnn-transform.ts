import type { RgbImage } from '../../data/image/decode.js';
import type { RcnnTransformConfig } from './fpn-config.js';

/** One image after GeneralizedRCNNTransform: normalised, resized, not yet padded (HWC float32). */
export interface TransformedImage {
  data: Float32Array;
  height: number;
  width: number;
  originalHeight: number;
  originalWidth: number;
}

/**
 * The resized size, as torchvision computes it: the scale in float32 as torch evaluates
 * `min_size / tensor(short)` (a reciprocal, then a product: f32(f32(1 / short) * min_size), which
 * is not always the correctly rounded quotient: 800 / 480 gives 1.6666667, not 1.6666666), the
 * smaller of the two sides' scales, and the size floor(side * scale) in double
 * (recompute_scale_factor=True), so 500x375 -> 1066x799 at 800/1333.
 */
export function rcnnResizedHw(
  height: number,
  width: number,
  minSize: number,
  maxSize: number,
): [number, number] {
  const f = Math.fround;
  const scaleFor = (target: number, side: number) => f(f(1 / f(side)) * target);
  const scale = Math.min(
    scaleFor(minSize, Math.min(height, width)),
    scaleFor(maxSize, Math.max(height, width)),
  );
  return [Math.floor(height * scale), Math.floor(width * scale)];
}

/** Source index and weights of torch's bilinear (align_corners=False) for each output position. */
function linearTaps(
  inSize: number,
  outSize: number,
): { i0: Int32Array; i1: Int32Array; w0: Float32Array; w1: Float32Array } {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(f(f(scale * (d + 0.5)) - 0.5), 0);
    const lo = Math.floor(src);
    i0[d] = lo;
    i1[d] = lo < inSize - 1 ? lo + 1 : lo;
    w1[d] = f(src - lo);
    w0[d] = f(1 - w1[d]);
  }
  return { i0, i1, w0, w1 };
}

/**
 * GeneralizedRCNNTransform on one RGB image, in torchvision's order: x / 255, normalise
 * ((x - mean) / std, float32), then bilinear resize of the float image (align_corners=False, no
 * antialias, source ratio in / out of the integer sizes).
 */
export function rcnnTransform(rgb: RgbImage, cfg: RcnnTransformConfig): TransformedImage {
  const f = Math.fround;
  const { width: w, height: h } = rgb;
  const norm = new Float32Array(w * h * 3);
  const mean = cfg.mean.map(f);
  const std = cfg.std.map(f);
  for (let i = 0; i < w * h * 3; i++) {
    const c = i % 3;
    norm[i] = f(f(f(rgb.data[i] / 255) - mean[c]) / std[c]);
  }
  const [oh, ow] = rcnnResizedHw(h, w, cfg.minSize, cfg.maxSize);
  const ys = linearTaps(h, oh);
  const xs = linearTaps(w, ow);
  const out = new Float32Array(oh * ow * 3);
  for (let y = 0; y < oh; y++) {
    const r0 = ys.i0[y] * w * 3;
    const r1 = ys.i1[y] * w * 3;
    const hy0 = ys.w0[y];
    const hy1 = ys.w1[y];
    for (let x = 0; x < ow; x++) {
      const c0 = xs.i0[x] * 3;
      const c1 = xs.i1[x] * 3;
      const wx0 = xs.w0[x];
      const wx1 = xs.w1[x];
      const o = (y * ow + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = f(f(wx0 * norm[r0 + c0 + c]) + f(wx1 * norm[r0 + c1 + c]));
        const bottom = f(f(wx0 * norm[r1 + c0 + c]) + f(wx1 * norm[r1 + c1 + c]));
        out[o + c] = f(f(top * hy0) + f(bottom * hy1));
      }
    }
  }
  return { data: out, height: oh, width: ow, originalHeight: h, originalWidth: w };
}

/** Zero padding at the bottom and right to a multiple of `divisible`: NHWC [1, Hp, Wp, 3] data. */
export function padToMultiple(
  img: TransformedImage,
  divisible: number,
): { data: Float32Array; hw: [number, number] } {
  const hp = Math.ceil(img.height / divisible) * divisible;
  const wp = Math.ceil(img.width / divisible) * divisible;
  const data = new Float32Array(hp * wp * 3);
  for (let y = 0; y < img.height; y++)
    data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), y * wp * 3);
  return { data, hw: [hp, wp] };
}

/** torchvision's resize_boxes back to the original image: x * f32(orig_w / resized_w), no clipping. */
export function boxesToOriginalSize(
  boxes: Float32Array,
  resizedHw: readonly [number, number],
  originalHw: readonly [number, number],
): Float32Array {
  const f = Math.fround;
  const ry = f(f(originalHw[0]) / f(resizedHw[0]));
  const rx = f(f(originalHw[1]) / f(resizedHw[1]));
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = f(boxes[i] * rx);
    out[i + 1] = f(boxes[i + 1] * ry);
    out[i + 2] = f(boxes[i + 2] * rx);
    out[i + 3] = f(boxes[i + 3] * ry);
  }
  return out;
}
