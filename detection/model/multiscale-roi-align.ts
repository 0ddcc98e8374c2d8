import * as tf from '@tensorflow/tfjs';
import { roiAlign } from '../ops/roi-align.js';
import type { LevelMapperConfig } from './fpn-config.js';

/**
 * torchvision's LevelMapper, in float32 as torch computes it: level = clamp(floor(k0 +
 * log2(sqrt(area) / s0) + eps), kMin, kMax) - kMin for boxes [x1, y1, x2, y2] (resized pixels).
 */
export function mapLevels(
  rois: Float32Array,
  columns: 4 | 5,
  kMin: number,
  kMax: number,
  cfg: LevelMapperConfig,
): Int32Array {
  const f = Math.fround;
  const n = rois.length / columns;
  const out = new Int32Array(n);
  const o = columns - 4;
  for (let i = 0; i < n; i++) {
    const r = i * columns + o;
    const area = f(f(rois[r + 2] - rois[r]) * f(rois[r + 3] - rois[r + 1]));
    const s = f(Math.sqrt(area));
    const lvl = Math.floor(f(f(cfg.canonicalLevel + f(Math.log2(f(s / cfg.canonicalScale)))) + f(cfg.eps)));
    out[i] = Math.min(Math.max(lvl, kMin), kMax) - kMin;
  }
  return out;
}

/** torchvision's infer_scale: 2 ** round(log2(feature size / image size)). */
export function inferScale(featureSide: number, imageSide: number): number {
  return 2 ** Math.round(Math.log2(featureSide / imageSide));
}

export interface MultiScaleRoiAlignOptions {
  outputSize: number;
  samplingRatio: number;
  aligned: boolean;
  levelMapper: LevelMapperConfig;
}

/**
 * MultiScaleRoIAlign over the maps '0'..'3': each RoI pooled from the level the mapper assigns,
 * with that level's scale (inferred from the largest resized image, as torchvision).
 * `rois` are rows [batch_index, x1, y1, x2, y2]. The output rows come grouped by level, in
 * `order` (original RoI indices); `restoreOrder` puts them back in RoI order (inference only:
 * a gather has no gradient on the wasm backend, and the training losses do not care).
 */
export function multiScaleRoiAlign(
  features: readonly tf.Tensor4D[],
  rois: Float32Array,
  maxImageHw: readonly [number, number],
  opts: MultiScaleRoiAlignOptions,
  restoreOrder: boolean,
): { pooled: tf.Tensor4D; order: number[] } {
  if (rois.length === 0) {
    const c = features[0].shape[3];
    return { pooled: tf.zeros([0, opts.outputSize, opts.outputSize, c]) as tf.Tensor4D, order: [] };
  }
  const scales = features.map((f) => inferScale(f.shape[1], maxImageHw[0]));
  const kMin = -Math.log2(scales[0]);
  const kMax = -Math.log2(scales[scales.length - 1]);
  const levels = mapLevels(rois, 5, kMin, kMax, opts.levelMapper);
  const order: number[] = [];
  const parts: tf.Tensor4D[] = [];
  return tf.tidy(() => {
    features.forEach((feature, l) => {
      const idx: number[] = [];
      for (let i = 0; i < levels.length; i++) if (levels[i] === l) idx.push(i);
      if (idx.length === 0) return;
      order.push(...idx);
      const levelRois = new Float32Array(idx.length * 5);
      idx.forEach((i, j) => {
        levelRois.set(rois.subarray(5 * i, 5 * i + 5), 5 * j);
      });
      parts.push(roiAlign(feature, levelRois, opts.outputSize, scales[l], opts.samplingRatio, opts.aligned));
    });
    let pooled = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor4D);
    if (restoreOrder) {
      const inverse = new Int32Array(order.length);
      order.forEach((i, j) => {
        inverse[i] = j;
      });
      pooled = tf.gather(pooled, tf.tensor1d(inverse, 'int32'));
      return { pooled, order: order.map((_, i) => i) };
    }
    return { pooled, order };
  });
}
