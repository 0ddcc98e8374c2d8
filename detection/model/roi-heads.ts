import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../../backbone/params.js';
import type { Rng } from '../../core/rng.js';
import { decodeBoxesFlat, encodeBoxesFlat, HEAD_BOX_WEIGHTS } from '../ops/box-coder.js';
import { boxIouFlat, clipBoxesInPlace } from '../ops/boxes.js';
import { batchedNms } from '../ops/nms.js';
import type { RoiHeadsConfig } from './config.js';
import { DenseLayer } from './layers.js';
import { smoothL1Sum, softmaxCrossEntropy } from './losses.js';
import { BELOW_LOW, matchBoxes } from './matcher.js';
import { sampleBalanced } from './sampler.js';

/**
 * Columns of class `label` (0 = background, 1..K objects) in the classifier's logits and in the
 * box regressor's groups of 4 (-1: none), for the background first (K + 1 regressors) or last
 * (detectron2: K regressors, no background box).
 */
export function classColumns(
  label: number,
  numClasses: number,
  background: 'first' | 'last' = 'first',
): { logit: number; box: number } {
  if (background === 'first') return { logit: label, box: label };
  return label === 0 ? { logit: numClasses, box: -1 } : { logit: label - 1, box: label - 1 };
}

/**
 * Fast R-CNN's predictor on the pooled conv5_x features: a (K+1)-way classifier and class-
 * specific box regressors, K + 1 of them with the background first (torchvision's
 * FastRCNNPredictor layout), K with it last (detectron2's FastRCNNOutputLayers); detectron2's init.
 */
export class BoxPredictor {
  readonly clsScore: DenseLayer;
  readonly bboxPred: DenseLayer;

  constructor(
    store: ParamStore,
    inF: number,
    numClasses: number,
    rng: Rng,
    background: 'first' | 'last' = 'first',
  ) {
    this.clsScore = new DenseLayer(
      store,
      'roi_heads.box_predictor.cls_score',
      inF,
      numClasses + 1,
      rng,
      0.01,
    );
    this.bboxPred = new DenseLayer(
      store,
      'roi_heads.box_predictor.bbox_pred',
      inF,
      4 * (background === 'first' ? numClasses + 1 : numClasses),
      rng,
      0.001,
    );
  }

  apply(x: tf.Tensor2D): { classLogits: tf.Tensor2D; boxDeltas: tf.Tensor2D } {
    return { classLogits: this.clsScore.apply(x), boxDeltas: this.bboxPred.apply(x) };
  }
}

/** The RoIs one training batch uses, all images together. */
export interface RoiSamples {
  /** [R * 5] rows [batch_index, x1, y1, x2, y2]. */
  rois: Float32Array;
  /** [R] class per RoI, 0 = background. */
  labels: Int32Array;
  /** [R * 4] encoded GT boxes (meaningful where label > 0). */
  targets: Float32Array;
}

/**
 * torchvision's select_training_samples for one batch: GT boxes appended to each image's
 * proposals, matched at IoU fgIou (no low-quality matches), `batchSizePerImage` sampled with at
 * most `positiveFraction` foreground, targets encoded with weights (10, 10, 5, 5).
 */
export function sampleRois(
  proposals: Float32Array[],
  gtBoxes: Float32Array[],
  gtLabels: Int32Array[],
  cfg: RoiHeadsConfig,
  rng: Rng,
  sampler: typeof sampleBalanced = sampleBalanced,
): RoiSamples {
  const rois: number[] = [];
  const labels: number[] = [];
  const targets: number[] = [];
  proposals.forEach((props, img) => {
    const gt = gtBoxes[img];
    const boxes = new Float32Array(props.length + gt.length);
    boxes.set(props, 0);
    boxes.set(gt, props.length);
    const n = boxes.length / 4;
    const numGt = gt.length / 4;
    const matches = matchBoxes(boxIouFlat(gt, boxes), numGt, n, {
      high: cfg.fgIou,
      low: cfg.bgIou,
      allowLowQuality: false,
    });
    const cls = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const m = matches[i];
      cls[i] = m >= 0 ? gtLabels[img][m] : m === BELOW_LOW ? 0 : -1;
    }
    const { positives, negatives } = sampler(cls, cfg.batchSizePerImage, cfg.positiveFraction, rng);
    for (const i of [...positives, ...negatives]) {
      const b = boxes.subarray(4 * i, 4 * i + 4);
      rois.push(img, b[0], b[1], b[2], b[3]);
      labels.push(cls[i]);
      if (cls[i] > 0) {
        const m = matches[i];
        const t = encodeBoxesFlat(gt.subarray(4 * m, 4 * m + 4), b, HEAD_BOX_WEIGHTS);
        targets.push(t[0], t[1], t[2], t[3]);
      } else targets.push(0, 0, 0, 0);
    }
  });
  return {
    rois: Float32Array.from(rois),
    labels: Int32Array.from(labels),
    targets: Float32Array.from(targets),
  };
}

/**
 * Fast R-CNN losses: softmax cross-entropy over all sampled RoIs, smooth-L1 on the foreground
 * RoIs' deltas of their own class, summed and divided by the number of RoIs (torchvision).
 */
export function roiLoss(
  classLogits: tf.Tensor2D,
  boxDeltas: tf.Tensor2D,
  samples: RoiSamples,
  background: 'first' | 'last' = 'first',
): { classifier: tf.Scalar; box: tf.Scalar } {
  return tf.tidy(() => {
    const r = samples.labels.length;
    if (r === 0) return { classifier: tf.scalar(0), box: tf.scalar(0) };
    const numClasses = classLogits.shape[1] - 1;
    const columns = (label: number) => classColumns(label, numClasses, background);
    const classifier = softmaxCrossEntropy(
      classLogits,
      background === 'first' ? samples.labels : samples.labels.map((l) => columns(l).logit),
    );
    const k1 = boxDeltas.shape[1] / 4;
    // Targets scattered into the [R, groups * 4] layout with a mask on each foreground RoI's own
    // class: the same sum as gathering those deltas, without a gather gradient (see losses.ts).
    const dense = new Float32Array(r * k1 * 4);
    const mask = new Float32Array(r * k1 * 4);
    for (let i = 0; i < r; i++) {
      if (samples.labels[i] <= 0) continue;
      const c = columns(samples.labels[i]).box;
      const o = (i * k1 + c) * 4;
      dense.set(samples.targets.subarray(4 * i, 4 * i + 4), o);
      mask.fill(1, o, o + 4);
    }
    const l1 = smoothL1Sum(boxDeltas, tf.tensor2d(dense, [r, k1 * 4]), 1 / 9, tf.tensor2d(mask, [r, k1 * 4]));
    const box = tf.div(l1, r) as tf.Scalar;
    return { classifier, box };
  });
}

/** Detections of one image: boxes in the resized image's pixels, labels 1..K, best first. */
export interface RawDetections {
  boxes: Float32Array;
  scores: Float32Array;
  labels: Int32Array;
}

/**
 * torchvision's postprocess_detections for one image: softmax scores, class-specific boxes
 * decoded and clipped, scores <= scoreThreshold and tiny boxes dropped, per-class NMS, best
 * `detectionsPerImage` kept.
 */
export function postprocessDetections(
  probs: Float32Array,
  deltas: Float32Array,
  proposals: Float32Array,
  imageHw: readonly [number, number],
  numClasses: number,
  cfg: Pick<
    RoiHeadsConfig,
    'scoreThreshold' | 'nmsThreshold' | 'detectionsPerImage' | 'background' | 'dropEmptyBoxes'
  >,
): RawDetections {
  const k1 = numClasses + 1;
  const background = cfg.background ?? 'first';
  const dropBeforeNms = (cfg.dropEmptyBoxes ?? 'before-nms') === 'before-nms';
  const groups = background === 'first' ? k1 : numClasses;
  const boxes = clipBoxesInPlace(
    decodeBoxesFlat(deltas, proposals, HEAD_BOX_WEIGHTS),
    imageHw[0],
    imageHw[1],
  );
  const candBoxes: number[] = [];
  const candScores: number[] = [];
  const candLabels: number[] = [];
  // The class ids NMS offsets boxes by: they change float32 rounding, so each convention's own.
  const nmsIds: number[] = [];
  const r = proposals.length / 4;
  for (let i = 0; i < r; i++) {
    for (let c = 1; c < k1; c++) {
      const col = classColumns(c, numClasses, background);
      const score = probs[i * k1 + col.logit];
      if (!(score > cfg.scoreThreshold)) continue;
      const o = (i * groups + col.box) * 4;
      if (dropBeforeNms && (boxes[o + 2] - boxes[o] < 1e-2 || boxes[o + 3] - boxes[o + 1] < 1e-2)) continue;
      candBoxes.push(boxes[o], boxes[o + 1], boxes[o + 2], boxes[o + 3]);
      candScores.push(score);
      candLabels.push(c);
      nmsIds.push(col.box);
    }
  }
  const flat = Float32Array.from(candBoxes);
  const keep = batchedNms(flat, candScores, nmsIds, cfg.nmsThreshold).slice(0, cfg.detectionsPerImage);
  const out: RawDetections = {
    boxes: new Float32Array(keep.length * 4),
    scores: new Float32Array(keep.length),
    labels: new Int32Array(keep.length),
  };
  keep.forEach((k, j) => {
    out.boxes.set(flat.subarray(4 * k, 4 * k + 4), 4 * j);
    out.scores[j] = candScores[k];
    out.labels[j] = candLabels[k];
  });
  return out;
}

/** What the RoI heads sample from in training: each image's GT and the draws' source. */
export interface RoiHeadsTraining {
  gtBoxes: Float32Array[];
  gtLabels: Int32Array[];
  rng: Rng;
  sampler?: typeof sampleBalanced;
}

/** Rows [image, x1, y1, x2, y2] of every image's proposals, images in order. */
export function roiRows(proposals: readonly Float32Array[]): Float32Array {
  const rois: number[] = [];
  proposals.forEach((p, img) => {
    for (let i = 0; i < p.length; i += 4) rois.push(img, p[i], p[i + 1], p[i + 2], p[i + 3]);
  });
  return Float32Array.from(rois);
}

/** The RoI heads' config with a caller's inference overrides applied. */
export function withDetectionOverrides(
  config: RoiHeadsConfig,
  overrides: { scoreThreshold?: number; detectionsPerImage?: number },
): RoiHeadsConfig {
  const cfg = { ...config };
  if (overrides.scoreThreshold !== undefined) cfg.scoreThreshold = overrides.scoreThreshold;
  if (overrides.detectionsPerImage !== undefined) cfg.detectionsPerImage = overrides.detectionsPerImage;
  return cfg;
}

/** postprocessDetections for each image of a batch, over the probabilities and deltas read for all RoIs. */
export function postprocessBatch(
  probs: Float32Array,
  deltas: Float32Array,
  boxCols: number,
  proposals: readonly Float32Array[],
  imageSizes: readonly (readonly [number, number])[],
  numClasses: number,
  cfg: RoiHeadsConfig,
): RawDetections[] {
  const k1 = numClasses + 1;
  const out: RawDetections[] = [];
  let offset = 0;
  proposals.forEach((p, img) => {
    const r = p.length / 4;
    out.push(
      postprocessDetections(
        probs.subarray(offset * k1, (offset + r) * k1),
        deltas.subarray(offset * boxCols, (offset + r) * boxCols),
        p,
        imageSizes[img],
        numClasses,
        cfg,
      ),
    );
    offset += r;
  });
  return out;
}

/**
 * The RoI heads' contract, one per detector assembly (C4RoiHeads, MultiScaleRoiHeads): the training
 * samples, the two losses under torchvision's names (on the tape), and inference detections.
 */
export interface RoiHeads {
  sample(proposals: readonly Float32Array[], training: RoiHeadsTraining): RoiSamples;
  loss(
    features: readonly tf.Tensor4D[],
    samples: RoiSamples,
    imageSizes: readonly (readonly [number, number])[],
  ): { loss_classifier: tf.Scalar; loss_box_reg: tf.Scalar };
  detect(
    features: readonly tf.Tensor4D[],
    proposals: readonly Float32Array[],
    imageSizes: readonly (readonly [number, number])[],
    overrides?: { scoreThreshold?: number; detectionsPerImage?: number },
  ): Promise<RawDetections[]>;
}
