import * as tf from '@tensorflow/tfjs';
import { ROI_POOL, type RoiPoolAttrs } from '../../core/roi/kernels.js';
import { roundHalfAway } from '../../core/roi/pool.js';
import { registerRoiKernels } from '../../core/roi/register.js';
import { type BoxesLike, toFlatBoxes } from './boxes.js';

export { roundHalfAway };

/**
 * RoI ops on NHWC feature maps. Rows of `rois` are [batch_index, x1, y1, x2, y2] in image pixels;
 * `spatialScale` maps them onto the feature map (1/16 for conv4_x). Results are [K, PH, PW, C].
 * They run as registered kernels (core/roi: cpu, wasm, webgpu) with registered gradients, which
 * flow back to the feature map (not to the boxes, as torchvision); the map never leaves its
 * backend.
 */

export type OutputSize = number | readonly [number, number] | readonly number[];

export function outputHw(size: OutputSize): [number, number] {
  if (typeof size === 'number') return [size, size];
  return [size[0], size[1] ?? size[0]];
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
  const [n, , , c] = checkFeatureMap(input, 'roiPool');
  const r = toFlatBoxes(rois, 'rois', 5);
  checkRois(r, n, 'roiPool');
  const k = r.length / 5;
  if (k === 0) return tf.zeros([0, ph, pw, c]);
  registerRoiKernels();
  const attrs: RoiPoolAttrs = { pooledHeight: ph, pooledWidth: pw, spatialScale: scale };
  return tf.tidy(() => {
    const boxes = tf.tensor2d(r, [k, 5]);
    const [pooled] = tf
      .engine()
      .runKernel(ROI_POOL, { x: input, rois: boxes }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return pooled as tf.Tensor4D;
  });
}
