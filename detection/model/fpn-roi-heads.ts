import * as tf from '@tensorflow/tfjs';
import type { BoxHead } from './box-heads.js';
import type { RoiHeadsConfig } from './config.js';
import type { LevelMapperConfig } from './fpn-config.js';
import { multiScaleRoiAlign } from './multiscale-roi-align.js';
import {
  type BoxPredictor,
  postprocessBatch,
  type RawDetections,
  type RoiHeads,
  type RoiHeadsTraining,
  type RoiSamples,
  roiLoss,
  roiRows,
  sampleRois,
  withDetectionOverrides,
} from './roi-heads.js';

export type { RoiHeadsTraining } from './roi-heads.js';

/**
 * torchvision's RoIHeads for the FPN detectors: MultiScaleRoIAlign (LevelMapper), a box head,
 * FastRCNNPredictor, and either the training losses (GT appended to the proposals, 512 sampled
 * per image at 0.25 foreground, cross-entropy + smooth L1 beta 1/9 over the sampled count) or
 * postprocess_detections (softmax, per-class decode (10, 10, 5, 5), clip, score > 0.05, boxes
 * under 1e-2 dropped, per-class NMS 0.5, top 100).
 */
export class MultiScaleRoiHeads implements RoiHeads {
  constructor(
    readonly boxHead: BoxHead,
    readonly predictor: BoxPredictor,
    readonly config: RoiHeadsConfig,
    readonly levelMapper: LevelMapperConfig,
    readonly numClasses: number,
  ) {}

  private pool(
    features: readonly tf.Tensor4D[],
    rois: Float32Array,
    maxHw: [number, number],
    training: boolean,
  ) {
    const { poolSize, samplingRatio, aligned } = this.config;
    return multiScaleRoiAlign(
      features,
      rois,
      maxHw,
      { outputSize: poolSize, samplingRatio, aligned, levelMapper: this.levelMapper },
      !training,
    );
  }

  /** torchvision's select_training_samples: GT appended, matched, balanced sample per image. */
  sample(proposals: readonly Float32Array[], training: RoiHeadsTraining): RoiSamples {
    return sampleRoiBatch(proposals, training, this.config);
  }

  /** The classifier and box losses of the sampled RoIs (on the tape). */
  loss(
    features: readonly tf.Tensor4D[],
    samples: RoiSamples,
    imageSizes: readonly (readonly [number, number])[],
  ): { loss_classifier: tf.Scalar; loss_box_reg: tf.Scalar } {
    if (samples.labels.length === 0) return { loss_classifier: tf.scalar(0), loss_box_reg: tf.scalar(0) };
    const { pooled, order } = this.pool(features, samples.rois, maxHwOf(imageSizes), true);
    const { classLogits, boxDeltas } = this.predictor.apply(this.boxHead.apply(pooled, true));
    const l = roiLoss(classLogits, boxDeltas, permuteSamples(samples, order));
    return { loss_classifier: l.classifier, loss_box_reg: l.box };
  }

  /** postprocess_detections per image (resized-image pixels); the probabilities read in one transfer. */
  async detect(
    features: readonly tf.Tensor4D[],
    proposals: readonly Float32Array[],
    imageSizes: readonly (readonly [number, number])[],
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): Promise<RawDetections[]> {
    const rois = roiRows(proposals);
    if (rois.length === 0) return proposals.map(() => emptyDetections());
    const cfg = withDetectionOverrides(this.config, overrides);
    const count = rois.length / 5;
    const k1 = this.numClasses + 1;
    const head = tf.tidy(() => {
      const { pooled } = this.pool(features, rois, maxHwOf(imageSizes), false);
      const out = this.predictor.apply(this.boxHead.apply(pooled, false));
      return tf.concat([tf.reshape(tf.softmax(out.classLogits), [-1]), tf.reshape(out.boxDeltas, [-1])]);
    });
    const values = (await head.data()) as Float32Array;
    head.dispose();
    const probs = values.subarray(0, count * k1);
    const deltas = values.subarray(count * k1);
    return postprocessBatch(probs, deltas, 4 * k1, proposals, imageSizes, this.numClasses, cfg);
  }
}

/** torchvision's select_training_samples over a batch: GT appended, matched, balanced sample per image. */
export function sampleRoiBatch(
  proposals: readonly Float32Array[],
  training: RoiHeadsTraining,
  config: RoiHeadsConfig,
): RoiSamples {
  return sampleRois(
    [...proposals],
    training.gtBoxes,
    training.gtLabels,
    config,
    training.rng,
    training.sampler,
  );
}

/** torchvision's MultiScaleRoIAlign infers its scales from the largest resized image. */
function maxHwOf(imageSizes: readonly (readonly [number, number])[]): [number, number] {
  return [Math.max(...imageSizes.map((s) => s[0])), Math.max(...imageSizes.map((s) => s[1]))];
}

/** The samples in the pooled rows' order. */
function permuteSamples(s: RoiSamples, order: readonly number[]): RoiSamples {
  const rois = new Float32Array(s.rois.length);
  const labels = new Int32Array(s.labels.length);
  const targets = new Float32Array(s.targets.length);
  order.forEach((i, j) => {
    rois.set(s.rois.subarray(5 * i, 5 * i + 5), 5 * j);
    labels[j] = s.labels[i];
    targets.set(s.targets.subarray(4 * i, 4 * i + 4), 4 * j);
  });
  return { rois, labels, targets };
}

export function emptyDetections(): RawDetections {
  return { boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) };
}
