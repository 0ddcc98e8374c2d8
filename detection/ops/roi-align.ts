import * as tf from '@tensorflow/tfjs';
import { ROI_ALIGN, type RoiAlignAttrs } from '../../core/roi/kernels.js';
import { registerRoiKernels } from '../../core/roi/register.js';
import { type BoxesLike, toFlatBoxes } from './boxes.js';
import {
  checkFeatureMap,
  checkRois,
  isSnakeOptions,
  type OutputSize,
  outputHw,
  type RoiOpOptionsSnake,
} from './roi-pool.js';

export interface RoiAlignOptions {
  outputSize: OutputSize;
  spatialScale?: number;
  /** Samples per bin side; <= 0 means adaptive, ceil(roi size / output size). Default -1. */
  samplingRatio?: number;
  /** Shift by half a pixel (Detectron2's ROIAlignV2). Default false, as torchvision. */
  aligned?: boolean;
}

/**
 * torchvision.ops.roi_align: average of bilinear samples on a regular grid in each bin (see
 * test/fixtures/torchvision/README.md for the exact rules). Matches torchvision within ~1e-6.
 * `roiAlign(input, rois, outputSize, spatialScale, samplingRatio, aligned)` (torchvision's
 * positional order) or `roiAlign(input, rois, {outputSize, spatialScale, samplingRatio, aligned})`
 * (or torchvision's snake_case keywords: a fixture case can be passed as it is).
 */
export function roiAlign(
  input: tf.Tensor4D | tf.Tensor,
  rois: BoxesLike,
  outputSize: OutputSize | RoiAlignOptions | RoiOpOptionsSnake,
  spatialScale = 1,
  samplingRatio = -1,
  aligned = false,
): tf.Tensor4D {
  let opts: Required<RoiAlignOptions>;
  if (isSnakeOptions(outputSize)) {
    opts = {
      outputSize: outputSize.output_size,
      spatialScale: outputSize.spatial_scale ?? 1,
      samplingRatio: outputSize.sampling_ratio ?? -1,
      aligned: outputSize.aligned ?? false,
    };
  } else if (typeof outputSize === 'object' && 'outputSize' in outputSize) {
    opts = {
      outputSize: outputSize.outputSize,
      spatialScale: outputSize.spatialScale ?? 1,
      samplingRatio: outputSize.samplingRatio ?? -1,
      aligned: outputSize.aligned ?? false,
    };
  } else {
    opts = { outputSize: outputSize as OutputSize, spatialScale, samplingRatio, aligned };
  }
  const [ph, pw] = outputHw(opts.outputSize);
  const [n, , , c] = checkFeatureMap(input, 'roiAlign');
  const r = toFlatBoxes(rois, 'rois', 5);
  checkRois(r, n, 'roiAlign');
  const k = r.length / 5;
  if (k === 0) return tf.zeros([0, ph, pw, c]);
  registerRoiKernels();
  const attrs: RoiAlignAttrs = {
    pooledHeight: ph,
    pooledWidth: pw,
    spatialScale: opts.spatialScale,
    samplingRatio: opts.samplingRatio,
    aligned: opts.aligned,
  };
  return tf.tidy(() => {
    const boxes = tf.tensor2d(r, [k, 5]);
    return tf
      .engine()
      .runKernel(ROI_ALIGN, { x: input, rois: boxes }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  });
}
