import * as tf from '@tensorflow/tfjs';
import { type BoxesLike, toFlatBoxes } from './boxes.js';

/**
 * RoI ops on NHWC feature maps. Rows of `rois` are [batch_index, x1, y1, x2, y2] in image pixels;
 * `spatialScale` maps them onto the feature map (1/16 for conv4_x). Results are [K, PH, PW, C].
 * They run as plain loops over typed arrays with channels innermost (contiguous in NHWC), wrapped
 * in tf.customGrad so gradients flow back to the feature map (not to the boxes, as torchvision).
 */

export type OutputSize = number | readonly [number, number] | readonly number[];

export function outputHw(size: OutputSize): [number, number] {
  if (typeof size === 'number') return [size, size];
  return [size[0], size[1] ?? size[0]];
}

/** C's round(): half away from zero (Math.round sends -0.5 to -0 and -1.5 to -1). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

export function checkFeatureMap(input: tf.Tensor, op: string): [number, number, number, number] {
  if (input.rank !== 4)
    throw new Error(`${op}: expected an NHWC feature map of rank 4, got shape [${input.shape.join(', ')}]`);
  return input.shape as [number, number, number, number];
}

export function checkRois(rois: Float32Array, batch: number, op: string): void {
  for (let k = 0; k < rois.length; k += 5) {
    const b = rois[k];
    if (!(b >= 0 && b < batch && Number.isInteger(b)))
      throw new Error(`${op}: rois[${k / 5}] has batch index ${b}, the feature map has batch ${batch}`);
  }
}

export interface RoiPoolOptions {
  outputSize: OutputSize;
  spatialScale?: number;
}

/** torchvision's keyword names (a fixture case can be passed as the options). */
export interface RoiOpOptionsSnake {
  output_size: OutputSize;
  spatial_scale?: number;
  sampling_ratio?: number;
  aligned?: boolean;
}

export function isSnakeOptions(o: unknown): o is RoiOpOptionsSnake {
  return typeof o === 'object' && o !== null && !Array.isArray(o) && 'output_size' in o;
}

/**
 * torchvision.ops.roi_pool: max over each of PH x PW bins of the quantised RoI (coordinates rounded
 * half away from zero, inclusive end, empty bins give 0). Bit-exact with torchvision.
 * `roiPool(input, rois, outputSize, spatialScale)` or `roiPool(input, rois, {outputSize, spatialScale})`
 * (or torchvision's snake_case keywords).
 */
export function roiPool(
  input: tf.Tensor4D | tf.Tensor,
  rois: BoxesLike,
  outputSize: OutputSize | RoiPoolOptions | RoiOpOptionsSnake,
  spatialScale = 1,
): tf.Tensor4D {
  let size: OutputSize;
  let scale = spatialScale;
  if (isSnakeOptions(outputSize)) {
    size = outputSize.output_size;
    scale = outputSize.spatial_scale ?? 1;
  } else if (typeof outputSize === 'object' && 'outputSize' in outputSize) {
    size = outputSize.outputSize;
    scale = outputSize.spatialScale ?? 1;
  } else {
    size = outputSize as OutputSize;
  }
  const [ph, pw] = outputHw(size);
  const [n, h, w, c] = checkFeatureMap(input, 'roiPool');
  const r = toFlatBoxes(rois, 'rois', 5);
  checkRois(r, n, 'roiPool');
  const k = r.length / 5;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const data = (args[0] as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(k * ph * pw * c);
    const argmax = new Int32Array(out.length).fill(-1);
    const fscale = Math.fround(scale);
    for (let i = 0; i < k; i++) {
      const b = r[5 * i];
      const sw = roundHalfAway(Math.fround(r[5 * i + 1] * fscale));
      const sh = roundHalfAway(Math.fround(r[5 * i + 2] * fscale));
      const ew = roundHalfAway(Math.fround(r[5 * i + 3] * fscale));
      const eh = roundHalfAway(Math.fround(r[5 * i + 4] * fscale));
      const roiW = Math.max(ew - sw + 1, 1);
      const roiH = Math.max(eh - sh + 1, 1);
      const binH = Math.fround(roiH / ph);
      const binW = Math.fround(roiW / pw);
      for (let y = 0; y < ph; y++) {
        const hs = Math.min(Math.max(Math.floor(Math.fround(y * binH)) + sh, 0), h);
        const he = Math.min(Math.max(Math.ceil(Math.fround((y + 1) * binH)) + sh, 0), h);
        for (let x = 0; x < pw; x++) {
          const ws = Math.min(Math.max(Math.floor(Math.fround(x * binW)) + sw, 0), w);
          const we = Math.min(Math.max(Math.ceil(Math.fround((x + 1) * binW)) + sw, 0), w);
          const o = ((i * ph + y) * pw + x) * c;
          if (he <= hs || we <= ws) continue; // empty bin: output 0, no gradient
          out.fill(-Number.MAX_VALUE, o, o + c);
          for (let yy = hs; yy < he; yy++) {
            for (let xx = ws; xx < we; xx++) {
              const base = ((b * h + yy) * w + xx) * c;
              for (let ch = 0; ch < c; ch++) {
                const v = data[base + ch];
                // strictly greater: the first maximum in scan order wins, as torchvision
                if (v > out[o + ch]) {
                  out[o + ch] = v;
                  argmax[o + ch] = base + ch;
                }
              }
            }
          }
        }
      }
    }
    return {
      value: tf.tensor4d(out, [k, ph, pw, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const dx = new Float32Array(n * h * w * c);
        for (let j = 0; j < g.length; j++) {
          const src = argmax[j];
          if (src >= 0) dx[src] += g[j];
        }
        return tf.tensor4d(dx, [n, h, w, c]);
      },
    };
  });
  return op(input) as tf.Tensor4D;
}
