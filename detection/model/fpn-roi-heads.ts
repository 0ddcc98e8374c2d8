import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../core/rng.js';
import type { BoxHead } from './box-heads.js';
import type { RoiHeadsConfig } from './config.js';
import type { LevelMapperConfig } from './fpn-config.js';
import { multiScaleRoiAlign } from './multiscale-roi-align.js';
import {
  type BoxPredictor,
  postprocessDetections,
  type RawDetections,
  type RoiSamples,
  roiLoss,
  sampleRois,
} from './roi-heads.js';
import type { Sampler } from './rpn.js';

export interface RoiHeadsTraining {
  gtBoxes: Float32Array[];
  gtLabels: Int32Array[];
  rng: Rng;
  sampler?: Sampler;
}

export interface RoiHeadsOutput {
  /** Detections per image in resized-image pixels (inference; empty lists in training). */
  result: RawDetections[];
  losses: { loss_classifier: tf.Scalar; loss_box_reg: tf.Scalar };
}

/**
 * torchvision's RoIHeads for the FPN detectors: MultiScaleRoIAlign (LevelMapper), a box head,
 * FastRCNNPredictor, and either the training losses (GT appended to the proposals, 512 sampled
 * per image at 0.25 foreground, cross-entropy + smooth L1 beta 1/9 over the sampled count) or
 * postprocess_detections (softmax, per-class decode (10, 10, 5, 5), clip, score > 0.05, boxes
 * under 1e-2 dropped, per-class NMS 0.5, top 100).
 */
export class MultiScaleRoiHeads {
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

  forward(
    features: readonly tf.Tensor4D[],
    proposals: readonly Float32Array[],
    imageSizes: readonly (readonly [number, number])[],
    training: RoiHeadsTraining | null,
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): RoiHeadsOutput {
    const maxHw: [number, number] = [
      Math.max(...imageSizes.map((s) => s[0])),
      Math.max(...imageSizes.map((s) => s[1])),
    ];
    if (training) {
      const samples = sampleRois(
        [...proposals],
        training.gtBoxes,
        training.gtLabels,
        this.config,
        training.rng,
        training.sampler,
      );
      if (samples.labels.length === 0)
        return { result: [], losses: { loss_classifier: tf.scalar(0), loss_box_reg: tf.scalar(0) } };
      const { pooled, order } = this.pool(features, samples.rois, maxHw, true);
      const { classLogits, boxDeltas } = this.predictor.apply(this.boxHead.apply(pooled, true));
      const l = roiLoss(classLogits, boxDeltas, permuteSamples(samples, order));
      return { result: [], losses: { loss_classifier: l.classifier, loss_box_reg: l.box } };
    }
    const rois: number[] = [];
    proposals.forEach((p, img) => {
      for (let i = 0; i < p.length; i += 4) rois.push(img, p[i], p[i + 1], p[i + 2], p[i + 3]);
    });
    const empty = { loss_classifier: tf.scalar(0), loss_box_reg: tf.scalar(0) };
    if (rois.length === 0) return { result: proposals.map(() => emptyDetections()), losses: empty };
    const cfg = { ...this.config };
    if (overrides.scoreThreshold !== undefined) cfg.scoreThreshold = overrides.scoreThreshold;
    if (overrides.detectionsPerImage !== undefined) cfg.detectionsPerImage = overrides.detectionsPerImage;
    const { probs, deltas } = tf.tidy(() => {
      const { pooled } = this.pool(features, Float32Array.from(rois), maxHw, false);
      const out = this.predictor.apply(this.boxHead.apply(pooled, false));
      return { probs: tf.softmax(out.classLogits), deltas: out.boxDeltas };
    });
    const probData = probs.dataSync() as Float32Array;
    const deltaData = deltas.dataSync() as Float32Array;
    probs.dispose();
    deltas.dispose();
    const k1 = this.numClasses + 1;
    const result: RawDetections[] = [];
    let offset = 0;
    proposals.forEach((p, img) => {
      const r = p.length / 4;
      result.push(
        postprocessDetections(
          probData.subarray(offset * k1, (offset + r) * k1),
          deltaData.subarray(offset * 4 * k1, (offset + r) * 4 * k1),
          p,
          imageSizes[img],
          this.numClasses,
          cfg,
        ),
      );
      offset += r;
    });
    return { result, losses: empty };
  }
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
