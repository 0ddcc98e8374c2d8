import * as tf from '@tensorflow/tfjs';
import type { ResNet } from '../../backbone/resnet.js';
import { roiAlign } from '../ops/roi-align.js';
import { roiPool } from '../ops/roi-pool.js';
import type { RoiHeadsConfig } from './config.js';
import { emptyDetections, sampleRoiBatch } from './fpn-roi-heads.js';
import {
  type BoxPredictor,
  postprocessBatch,
  type RawDetections,
  type RoiHeads,
  type RoiHeadsTraining,
  type RoiSamples,
  roiLoss,
  roiRows,
  withDetectionOverrides,
} from './roi-heads.js';

/** RoIs per pass through the per-RoI head at inference. */
const ROI_CHUNK = 128;

/**
 * The paper's C4 RoI heads, with the contract of the FPN detector's MultiScaleRoiHeads (sample,
 * loss under torchvision's names, detect): each RoI is pooled (RoIPool or RoIAlign) from the one
 * stride-16 map, run through conv5_x, average-pooled and classified.
 */
export class C4RoiHeads implements RoiHeads {
  constructor(
    readonly backbone: ResNet,
    readonly predictor: BoxPredictor,
    readonly config: RoiHeadsConfig,
    readonly numClasses: number,
  ) {}

  /** Total stride of conv4_x relative to the input (16 for ImageNet ResNets). */
  get featureStride(): number {
    return this.backbone.stageStride(3);
  }

  /** Per-RoI head: pool on conv4_x, conv5_x (stride 2), global average pool -> [R, C5]. */
  roiFeatures(feature: tf.Tensor4D, rois: Float32Array, training: boolean): tf.Tensor2D {
    const { pooler, poolSize, samplingRatio, aligned } = this.config;
    return tf.tidy(() => {
      const spatialScale = 1 / this.featureStride;
      const pooled =
        pooler === 'align'
          ? roiAlign(feature, rois, poolSize, spatialScale, samplingRatio, aligned)
          : roiPool(feature, rois, poolSize, spatialScale);
      const y = this.backbone.stage(4, pooled, training);
      return tf.mean(y, [1, 2]) as tf.Tensor2D;
    });
  }

  /** The RoI samples of a batch: GT appended, matched, balanced sample per image. */
  sample(proposals: readonly Float32Array[], training: RoiHeadsTraining): RoiSamples {
    return sampleRoiBatch(proposals, training, this.config);
  }

  /** The classifier and box losses of the sampled RoIs (on the tape); none sampled: zeros. */
  loss(
    features: readonly tf.Tensor4D[],
    samples: RoiSamples,
  ): { loss_classifier: tf.Scalar; loss_box_reg: tf.Scalar } {
    if (samples.labels.length === 0) return { loss_classifier: tf.scalar(0), loss_box_reg: tf.scalar(0) };
    const pooled = this.roiFeatures(features[0], samples.rois, true);
    const { classLogits, boxDeltas } = this.predictor.apply(pooled);
    const l = roiLoss(classLogits, boxDeltas, samples, this.config.background);
    return { loss_classifier: l.classifier, loss_box_reg: l.box };
  }

  /** Detections per image (resized-image pixels, best first); the head's outputs read together. */
  async detect(
    features: readonly tf.Tensor4D[],
    proposals: readonly Float32Array[],
    imageSizes: readonly (readonly [number, number])[],
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): Promise<RawDetections[]> {
    const feature = features[0];
    const allRois = roiRows(proposals);
    if (allRois.length === 0) return proposals.map(() => emptyDetections());
    const cfg = withDetectionOverrides(this.config, overrides);
    const k1 = this.numClasses + 1;
    const boxCols = this.predictor.bboxPred.bias.size;
    const count = allRois.length / 5;
    // The per-RoI head in chunks: 1000 RoIs of a full-size ResNet-50 would need several GB of
    // conv5_x activations at once (beyond wasm's 4 GB heap); each RoI is computed on its own.
    // Each chunk's probabilities and box deltas in one tensor, all read together.
    const heads: tf.Tensor1D[] = [];
    for (let start = 0; start < count; start += ROI_CHUNK) {
      const end = Math.min(count, start + ROI_CHUNK);
      heads.push(
        tf.tidy(() => {
          const pooled = this.roiFeatures(feature, allRois.subarray(5 * start, 5 * end), false);
          const { classLogits, boxDeltas } = this.predictor.apply(pooled);
          return tf.concat([
            tf.reshape(tf.softmax(classLogits), [-1]),
            tf.reshape(boxDeltas, [-1]),
          ]) as tf.Tensor1D;
        }),
      );
    }
    let chunks: Float32Array[];
    try {
      chunks = (await Promise.all(heads.map((h) => h.data()))) as Float32Array[];
    } finally {
      tf.dispose(heads);
    }
    const probs = new Float32Array(count * k1);
    const deltasData = new Float32Array(count * boxCols);
    chunks.forEach((values, c) => {
      const n = values.length / (k1 + boxCols);
      probs.set(values.subarray(0, n * k1), c * ROI_CHUNK * k1);
      deltasData.set(values.subarray(n * k1), c * ROI_CHUNK * boxCols);
    });
    return postprocessBatch(probs, deltasData, boxCols, proposals, imageSizes, this.numClasses, cfg);
  }
}
