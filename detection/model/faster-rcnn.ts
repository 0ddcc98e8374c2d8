import * as tf from '@tensorflow/tfjs';
import { type ParamEntry, ParamStore } from '../../backbone/params.js';
import { ResNet } from '../../backbone/resnet.js';
import { Rng } from '../../core/rng.js';
import { type SafeTensor, SafetensorsFile } from '../../core/safetensors.js';
import { cellAnchorsFlat, gridAnchorsFlat } from '../anchors.js';
import { roiAlign } from '../roi-align.js';
import { roiPool } from '../roi-pool.js';
import type { NamedVariable } from '../train/sgd.js';
import { type DetectorConfig, validateDetectorConfig } from './config.js';
import { type Proposals, RpnHead, rpnLoss, rpnTargets, selectProposals } from './rpn.js';
import { BoxPredictor, postprocessDetections, type RawDetections, roiLoss, sampleRois } from './roi-heads.js';

/** A batch as the model sees it: normalised NHWC images padded to a common size. */
export interface ImageBatch {
  /** [N, Hp, Wp, 3], Hp and Wp multiples of config.sizeDivisible. */
  images: tf.Tensor4D;
  /** Each image's [height, width] after resizing, before padding (boxes are clipped to it). */
  imageSizes: [number, number][];
}

/** Training targets of one image, in the resized image's pixels. */
export interface ImageTargets {
  boxes: Float32Array;
  /** Labels 1..K. */
  labels: Int32Array;
}

export interface LossValues {
  rpnObjectness: number;
  rpnBox: number;
  classifier: number;
  box: number;
  total: number;
}

const BACKBONE_PREFIX = 'backbone.';

/** Drops degenerate GT boxes (zero or negative width/height, non-finite): they would make log(0) targets. */
export function validTargets(t: ImageTargets): ImageTargets {
  const keep: number[] = [];
  for (let i = 0; i < t.labels.length; i++) {
    const [x1, y1, x2, y2] = t.boxes.subarray(4 * i, 4 * i + 4);
    if (Number.isFinite(x1 + y1 + x2 + y2) && x2 - x1 >= 1e-2 && y2 - y1 >= 1e-2) keep.push(i);
  }
  if (keep.length === t.labels.length) return t;
  const boxes = new Float32Array(keep.length * 4);
  keep.forEach((i, j) => {
    boxes.set(t.boxes.subarray(4 * i, 4 * i + 4), 4 * j);
  });
  return { boxes, labels: Int32Array.from(keep, (i) => t.labels[i]) };
}

/**
 * Faster R-CNN with a ResNet, the paper's C4 design: conv1..conv4_x give the shared stride-16
 * feature map; the RPN proposes boxes on it; each RoI is pooled (14x14) from it and run through
 * conv5_x, average-pooled and classified. `losses` trains end to end (approximate joint training:
 * no gradient through the proposal boxes); `detect` runs inference.
 */
export class FasterRCNN {
  readonly config: DetectorConfig;
  readonly backbone: ResNet;
  readonly heads: ParamStore;
  readonly rpn: RpnHead;
  readonly predictor: BoxPredictor;
  private readonly cellAnchors: Float32Array;
  private readonly anchorCache = new Map<string, Float32Array>();

  constructor(config: DetectorConfig) {
    validateDetectorConfig(config);
    this.config = config;
    this.backbone = new ResNet(config.backbone);
    this.heads = new ParamStore();
    const rng = new Rng(config.seed + 1);
    this.cellAnchors = cellAnchorsFlat(config.anchorSizes, config.aspectRatios);
    const numAnchors = this.cellAnchors.length / 4;
    this.rpn = new RpnHead(this.heads, this.backbone.stageChannels(3), numAnchors, rng);
    this.predictor = new BoxPredictor(this.heads, this.backbone.stageChannels(4), config.numClasses, rng);
  }

  get numClasses(): number {
    return this.config.numClasses;
  }

  /** conv1 .. conv4_x: the shared feature map (stride 16). */
  features(images: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      let x = this.backbone.stem(images, training);
      for (let i = 1; i <= 3; i++) x = this.backbone.stage(i, x, training);
      return x;
    });
  }

  /** Anchors for a feature map of [fh, fw] cells over a padded input of [ph, pw] pixels. */
  anchors(fh: number, fw: number, ph: number, pw: number): Float32Array {
    const key = `${fh}x${fw}/${ph}x${pw}`;
    let a = this.anchorCache.get(key);
    if (!a) {
      // torchvision's stride rule: padded image size // feature size.
      a = gridAnchorsFlat(this.cellAnchors, fh, fw, Math.floor(ph / fh), Math.floor(pw / fw));
      this.anchorCache.set(key, a);
    }
    return a;
  }

  /** Per-RoI head: pool on conv4_x, conv5_x (stride 2), global average pool -> [R, C5]. */
  roiFeatures(feature: tf.Tensor4D, rois: Float32Array, training: boolean): tf.Tensor2D {
    const { pooler, poolSize, samplingRatio, aligned } = this.config.roiHeads;
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

  /** Total stride of conv4_x relative to the input (16 for ImageNet ResNets). */
  get featureStride(): number {
    return this.backbone.stageStride(3);
  }

  private proposalsOf(
    objectness: tf.Tensor4D,
    deltas: tf.Tensor4D,
    batch: ImageBatch,
    training: boolean,
  ): { proposals: Proposals[]; anchors: Float32Array } {
    const [n, fh, fw, a] = objectness.shape;
    const anchors = this.anchors(fh, fw, batch.images.shape[1], batch.images.shape[2]);
    const obj = objectness.dataSync() as Float32Array;
    const del = deltas.dataSync() as Float32Array;
    const per = fh * fw * a;
    const cfg = this.config.rpn;
    const proposals: Proposals[] = [];
    for (let i = 0; i < n; i++) {
      proposals.push(
        selectProposals(
          obj.subarray(i * per, (i + 1) * per),
          del.subarray(4 * i * per, 4 * (i + 1) * per),
          anchors,
          batch.imageSizes[i],
          {
            preNmsTopN: training ? cfg.preNmsTopNTrain : cfg.preNmsTopNTest,
            postNmsTopN: training ? cfg.postNmsTopNTrain : cfg.postNmsTopNTest,
            nmsThreshold: cfg.nmsThreshold,
            minSize: cfg.minSize,
          },
        ),
      );
    }
    return { proposals, anchors };
  }

  /**
   * The four training losses for a batch and their sum (to be differentiated by the caller, e.g.
   * inside tf.variableGrads). `values` receives the numbers for logging.
   */
  losses(batch: ImageBatch, targets: ImageTargets[], rng: Rng, values?: Partial<LossValues>): tf.Scalar {
    const clean = targets.map(validTargets);
    const feature = this.features(batch.images, true);
    const { objectness, deltas } = this.rpn.apply(feature);
    const { proposals, anchors } = this.proposalsOf(objectness, deltas, batch, true);
    const anchorsPerImage = anchors.length / 4;
    const perImage = clean.map((t) => rpnTargets(anchors, t.boxes, this.config.rpn, rng));
    const rpn = rpnLoss(
      tf.reshape(objectness, [-1]) as tf.Tensor1D,
      tf.reshape(deltas, [-1, 4]) as tf.Tensor2D,
      perImage,
      anchorsPerImage,
    );
    const samples = sampleRois(
      proposals.map((p) => p.boxes),
      clean.map((t) => t.boxes),
      clean.map((t) => t.labels),
      this.config.roiHeads,
      rng,
    );
    // No RoI at all (no proposal survived and no GT): the head sits this batch out.
    let roi = { classifier: tf.scalar(0), box: tf.scalar(0) };
    if (samples.labels.length > 0) {
      const pooled = this.roiFeatures(feature, samples.rois, true);
      const { classLogits, boxDeltas } = this.predictor.apply(pooled);
      roi = roiLoss(classLogits, boxDeltas, samples);
    }
    const total = tf.addN([rpn.objectness, rpn.box, roi.classifier, roi.box]) as tf.Scalar;
    if (values) {
      values.rpnObjectness = rpn.objectness.dataSync()[0];
      values.rpnBox = rpn.box.dataSync()[0];
      values.classifier = roi.classifier.dataSync()[0];
      values.box = roi.box.dataSync()[0];
      values.total = total.dataSync()[0];
    }
    return total;
  }

  /** Detections per image in the resized images' pixels (best first). */
  detect(
    batch: ImageBatch,
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): RawDetections[] {
    let out: RawDetections[] = [];
    // Tensors die with the scope; the detections are plain typed arrays.
    tf.tidy(() => {
      const feature = this.features(batch.images, false);
      const { objectness, deltas } = this.rpn.apply(feature);
      const { proposals } = this.proposalsOf(objectness, deltas, batch, false);
      const rois: number[] = [];
      proposals.forEach((p, img) => {
        for (let i = 0; i < p.boxes.length; i += 4)
          rois.push(img, p.boxes[i], p.boxes[i + 1], p.boxes[i + 2], p.boxes[i + 3]);
      });
      const cfg = { ...this.config.roiHeads };
      if (overrides.scoreThreshold !== undefined) cfg.scoreThreshold = overrides.scoreThreshold;
      if (overrides.detectionsPerImage !== undefined) cfg.detectionsPerImage = overrides.detectionsPerImage;
      if (rois.length === 0) {
        out = proposals.map(() => emptyDetections());
        return;
      }
      const pooled = this.roiFeatures(feature, Float32Array.from(rois), false);
      const { classLogits, boxDeltas } = this.predictor.apply(pooled);
      const probs = tf.softmax(classLogits).dataSync() as Float32Array;
      const deltasData = boxDeltas.dataSync() as Float32Array;
      const k1 = this.numClasses + 1;
      let offset = 0;
      proposals.forEach((p, img) => {
        const r = p.boxes.length / 4;
        out.push(
          postprocessDetections(
            probs.subarray(offset * k1, (offset + r) * k1),
            deltasData.subarray(offset * 4 * k1, (offset + r) * 4 * k1),
            p.boxes,
            batch.imageSizes[img],
            this.numClasses,
            cfg,
          ),
        );
        offset += r;
      });
    });
    return out;
  }

  /** Variables the optimizer updates (frozen stages and frozen BN excluded). */
  trainableVariables(): tf.Variable[] {
    return [...this.backbone.trainableVariables(), ...this.heads.trainableVariables()];
  }

  /** Trainable variables with their state-dict names; weight decay on conv and linear weights only. */
  namedTrainableVariables(): NamedVariable[] {
    const named = (prefix: string, entries: ParamEntry[]): NamedVariable[] =>
      entries
        .filter((e) => !e.buffer && e.variable.trainable)
        .map((e) => ({
          name: prefix + e.name,
          variable: e.variable,
          decay: e.layout === 'conv' || e.layout === 'linear',
        }));
    return [...named(BACKBONE_PREFIX, this.backbone.params.all()), ...named('', this.heads.all())];
  }

  /** Names of parameters or buffers holding NaN or infinity (empty when all are finite). */
  nonFiniteParameters(): string[] {
    const entries = [
      ...this.backbone.params.all().map((e) => ({ name: BACKBONE_PREFIX + e.name, variable: e.variable })),
      ...this.heads.all(),
    ].filter((e) => e.variable.dtype === 'float32');
    const flags = tf.tidy(() => tf.stack(entries.map((e) => tf.all(tf.isFinite(e.variable)))).dataSync());
    return entries.filter((_, i) => !flags[i]).map((e) => e.name);
  }

  /** Every parameter and buffer under torchvision-style names ("backbone.layer3.0.conv1.weight", "rpn.head.conv.weight"). */
  stateDict(): Record<string, SafeTensor> {
    const out: Record<string, SafeTensor> = {};
    for (const [k, v] of Object.entries(this.backbone.stateDict())) out[BACKBONE_PREFIX + k] = v;
    Object.assign(out, this.heads.stateDict());
    return out;
  }

  /** Loads a full detector state dict (strict). */
  loadStateDict(source: SafetensorsFile | Record<string, SafeTensor>, label?: string): void {
    const backbone: Record<string, SafeTensor> = {};
    const heads: Record<string, SafeTensor> = {};
    const file = source instanceof SafetensorsFile ? source : undefined;
    const names = file ? file.names() : Object.keys(source);
    for (const name of names) {
      const t = file ? file.tensor(name) : (source as Record<string, SafeTensor>)[name];
      if (name.startsWith(BACKBONE_PREFIX)) backbone[name.slice(BACKBONE_PREFIX.length)] = t;
      else heads[name] = t;
    }
    this.backbone.params.loadStateDict(backbone, {}, label ? `${label} (backbone)` : undefined);
    this.heads.loadStateDict(heads, {}, label);
  }

  dispose(): void {
    this.backbone.dispose();
    this.heads.dispose();
  }
}

function emptyDetections(): RawDetections {
  return { boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) };
}
