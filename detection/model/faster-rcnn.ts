import * as tf from '@tensorflow/tfjs';
import { ParamStore, trainableParams } from '../../backbone/params.js';
import { ResNet } from '../../backbone/resnet.js';
import { Rng } from '../../core/rng.js';
import { type SafeTensor, SafetensorsFile } from '../../core/safetensors.js';
import { cellAnchorsFlat } from '../ops/anchors.js';
import type { NamedParam } from '../../core/train/sgd.js';
import { type DetectorConfig, validateDetectorConfig } from './config.js';
import { Rpn } from './multilevel-rpn.js';
import type { Proposals, RpnTargets } from './rpn.js';
import { C4RoiHeads } from './c4-roi-heads.js';
import { BoxPredictor, type RawDetections, type RoiSamples } from './roi-heads.js';
import { withoutRunningStatsUpdate } from '../../backbone/layers.js';

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

/** The order of the loss values in the stacked tensor `losses` returns beside the total. */
const LOSS_PARTS = ['rpnObjectness', 'rpnBox', 'classifier', 'box', 'total'] as const;

/** LossValues from the stacked loss tensor's values (LOSS_PARTS order). */
export function lossValuesOf(parts: ArrayLike<number>): LossValues {
  const out = {} as LossValues;
  LOSS_PARTS.forEach((name, i) => {
    out[name] = parts[i];
  });
  return out;
}

/**
 * What a training step's losses need from the RPN's outputs, worked out before the gradient tape
 * starts: the tape's function is synchronous and the outputs can only be read with an await.
 */
export interface LossPlan {
  /** Targets with degenerate boxes dropped. */
  targets: ImageTargets[];
  rpn: RpnTargets[];
  anchorsPerImage: number;
  samples: RoiSamples;
}

const BACKBONE_PREFIX = 'backbone.';

/**
 * The gradients of a planned step's total loss w.r.t. `variables` (`losses` runs on the tape), and
 * the loss values, read once after the backward pass. The caller disposes the gradients.
 */
export async function differentiatePlan<P>(
  plan: P,
  losses: (plan: P) => { total: tf.Scalar; parts: tf.Tensor1D },
  variables: tf.Variable[],
): Promise<{ grads: tf.NamedTensorMap; values: LossValues }> {
  let parts: tf.Tensor1D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = losses(plan);
    parts = tf.keep(out.parts);
    return out.total;
  }, variables);
  value.dispose();
  const kept = parts as tf.Tensor1D;
  try {
    return { grads, values: lossValuesOf(await kept.data()) };
  } catch (err) {
    tf.dispose(Object.values(grads));
    throw err;
  } finally {
    kept.dispose();
  }
}

/** Names of the float32 variables holding NaN or infinity (one read for all of them). */
export async function nonFiniteNames(
  entries: readonly { name: string; variable: tf.Variable }[],
): Promise<string[]> {
  const checked = entries.filter((e) => e.variable.dtype === 'float32');
  const stacked = tf.tidy(() => tf.stack(checked.map((e) => tf.all(tf.isFinite(e.variable)))));
  const flags = await stacked.data();
  stacked.dispose();
  return checked.filter((_, i) => !flags[i]).map((e) => e.name);
}

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
  /** The shared `Rpn` on one level (conv4_x), with C4's anchors, names and proposal filtering. */
  readonly rpn: Rpn;
  readonly predictor: BoxPredictor;
  /** Pool on conv4_x, conv5_x, classify: the FPN RoI heads' contract (sample, loss, detect). */
  readonly roiHeads: C4RoiHeads;

  constructor(config: DetectorConfig) {
    validateDetectorConfig(config);
    this.config = config;
    this.backbone = new ResNet(config.backbone);
    this.heads = new ParamStore();
    const rng = new Rng(config.seed + 1);
    const cellAnchors = cellAnchorsFlat(config.anchorSizes, config.aspectRatios, config.anchorGenerator);
    // torchvision's stride rule (padded image size // feature size) unless detectron2's fixed one.
    this.rpn = new Rpn(
      this.heads,
      this.backbone.stageChannels(3),
      config.anchorSizes,
      config.aspectRatios,
      1,
      { ...config.rpn, scoreThreshold: 0 },
      rng,
      {
        cellAnchors: [cellAnchors],
        fixedStride: config.anchorGenerator?.stride,
        convName: () => 'rpn.head.conv',
        singleLevel: true,
      },
    );
    this.predictor = new BoxPredictor(
      this.heads,
      this.backbone.stageChannels(4),
      config.numClasses,
      rng,
      config.roiHeads.background ?? 'first',
    );
    this.roiHeads = new C4RoiHeads(this.backbone, this.predictor, config.roiHeads, config.numClasses);
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
    return this.rpn.anchors([[fh, fw]], ph, pw).anchors;
  }

  /** Per-RoI head: pool on conv4_x, conv5_x (stride 2), global average pool -> [R, C5]. */
  roiFeatures(feature: tf.Tensor4D, rois: Float32Array, training: boolean): tf.Tensor2D {
    return this.roiHeads.roiFeatures(feature, rois, training);
  }

  /** Total stride of conv4_x relative to the input (16 for ImageNet ResNets). */
  get featureStride(): number {
    return this.backbone.stageStride(3);
  }

  /** The RPN head on the feature map: objectness [N, H * W * A] and deltas [N, H * W * A, 4]. */
  private rpnHeads(feature: tf.Tensor4D): { objectness: tf.Tensor2D; deltas: tf.Tensor3D } {
    return this.rpn.heads([feature]);
  }

  /** Reads the RPN's outputs (one transfer) and selects each image's proposals on the CPU. */
  private async proposalsOf(
    objectness: tf.Tensor2D | tf.Tensor4D,
    deltas: tf.Tensor3D | tf.Tensor4D,
    grid: readonly [number, number],
    batch: ImageBatch,
    training: boolean,
  ): Promise<{ proposals: Proposals[]; anchors: Float32Array }> {
    const n = objectness.shape[0];
    const flat = tf.tidy(() => ({
      objectness: tf.reshape(objectness, [n, -1]) as tf.Tensor2D,
      deltas: tf.reshape(deltas, [n, -1, 4]) as tf.Tensor3D,
    }));
    try {
      const { proposals, anchors } = await this.rpn.propose(
        flat.objectness,
        flat.deltas,
        [grid],
        batch.imageSizes,
        [batch.images.shape[1], batch.images.shape[2]],
        training,
      );
      return { proposals, anchors };
    } finally {
      tf.dispose([flat.objectness, flat.deltas]);
    }
  }

  /** Inference proposals of each image from the RPN head's outputs (highest objectness first). */
  async proposals(objectness: tf.Tensor4D, deltas: tf.Tensor4D, batch: ImageBatch): Promise<Proposals[]> {
    const grid = [objectness.shape[1], objectness.shape[2]] as const;
    return (await this.proposalsOf(objectness, deltas, grid, batch, false)).proposals;
  }

  /** conv4_x's grid [fh, fw] for a padded batch. */
  private gridOf(feature: tf.Tensor4D): [number, number] {
    return [feature.shape[1], feature.shape[2]];
  }

  /**
   * The first half of a training step, outside the gradient tape: runs conv1..conv4_x and the RPN
   * forward (without touching BN running statistics: `losses` runs them again on the tape), reads
   * the RPN's outputs, selects the proposals, and draws the RPN's and the RoI head's samples
   * (from `rng`, in that order).
   */
  async planLosses(batch: ImageBatch, targets: ImageTargets[], rng: Rng): Promise<LossPlan> {
    const clean = targets.map(validTargets);
    let grid: [number, number] = [0, 0];
    const { objectness, deltas } = withoutRunningStatsUpdate(() =>
      tf.tidy(() => {
        const feature = this.features(batch.images, true);
        grid = this.gridOf(feature);
        return this.rpnHeads(feature);
      }),
    );
    let selected: { proposals: Proposals[]; anchors: Float32Array };
    try {
      selected = await this.proposalsOf(objectness, deltas, grid, batch, true);
    } finally {
      objectness.dispose();
      deltas.dispose();
    }
    const { proposals, anchors } = selected;
    const rpn = clean.map((t) => this.rpn.targets(anchors, t.boxes, rng));
    const samples = this.roiHeads.sample(
      proposals.map((p) => p.boxes),
      { gtBoxes: clean.map((t) => t.boxes), gtLabels: clean.map((t) => t.labels), rng },
    );
    return { targets: clean, rpn, anchorsPerImage: anchors.length / 4, samples };
  }

  /**
   * The four training losses of a planned batch and their sum (synchronous, to be differentiated
   * inside tf.variableGrads), with `parts`: the five values stacked in LOSS_PARTS order, so the
   * caller reads them in one transfer (lossValuesOf).
   */
  losses(batch: ImageBatch, plan: LossPlan): { total: tf.Scalar; parts: tf.Tensor1D } {
    const feature = this.features(batch.images, true);
    const { objectness, deltas } = this.rpnHeads(feature);
    const rpnLosses = this.rpn.loss(objectness, deltas, plan.rpn, plan.anchorsPerImage);
    const rpn = { objectness: rpnLosses.loss_objectness, box: rpnLosses.loss_rpn_box_reg };
    // No RoI at all (no proposal survived and no GT): the head sits this batch out (zeros).
    const roiLosses = this.roiHeads.loss([feature], plan.samples);
    const roi = { classifier: roiLosses.loss_classifier, box: roiLosses.loss_box_reg };
    const total = tf.addN([rpn.objectness, rpn.box, roi.classifier, roi.box]) as tf.Scalar;
    const parts = tf.stack([rpn.objectness, rpn.box, roi.classifier, roi.box, total]) as tf.Tensor1D;
    return { total, parts };
  }

  /**
   * One training step's gradients of the total loss w.r.t. `variables` (planLosses, then
   * `losses` on the tape), and the loss values, read once after the backward pass. The caller
   * disposes the gradients.
   */
  async lossGradients(
    batch: ImageBatch,
    targets: ImageTargets[],
    rng: Rng,
    variables: tf.Variable[],
  ): Promise<{ grads: tf.NamedTensorMap; values: LossValues }> {
    return differentiatePlan(
      await this.planLosses(batch, targets, rng),
      (plan) => this.losses(batch, plan),
      variables,
    );
  }

  /** Detections per image in the resized images' pixels (best first). */
  async detect(
    batch: ImageBatch,
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): Promise<RawDetections[]> {
    // Tensors live only inside the synchronous tidy scopes; the feature map until the RoI head.
    const { feature, objectness, deltas } = tf.tidy(() => {
      const feature = this.features(batch.images, false);
      return { feature, ...this.rpnHeads(feature) };
    });
    let proposals: Proposals[];
    try {
      ({ proposals } = await this.proposalsOf(objectness, deltas, this.gridOf(feature), batch, false));
    } catch (err) {
      feature.dispose();
      throw err;
    } finally {
      objectness.dispose();
      deltas.dispose();
    }
    try {
      return await this.roiHeads.detect(
        [feature],
        proposals.map((p) => p.boxes),
        batch.imageSizes,
        overrides,
      );
    } finally {
      feature.dispose();
    }
  }

  /** Variables the optimizer updates (frozen stages and frozen BN excluded). */
  trainableVariables(): tf.Variable[] {
    return [...this.backbone.trainableVariables(), ...this.heads.trainableVariables()];
  }

  /** Trainable variables with their state-dict names and weight-decay groups. */
  namedTrainableVariables(): NamedParam[] {
    return [
      ...trainableParams(this.backbone.params.all(), BACKBONE_PREFIX),
      ...trainableParams(this.heads.all()),
    ];
  }

  /** Names of parameters or buffers holding NaN or infinity (empty when all are finite). */
  async nonFiniteParameters(): Promise<string[]> {
    return nonFiniteNames([
      ...this.backbone.params.all().map((e) => ({ name: BACKBONE_PREFIX + e.name, variable: e.variable })),
      ...this.heads.all(),
    ]);
  }

  /** Every parameter and buffer under torchvision-style names ("backbone.layer3.0.conv1.weight", "rpn.head.conv.weight"). */
  async stateDict(): Promise<Record<string, SafeTensor>> {
    const out: Record<string, SafeTensor> = {};
    for (const [k, v] of Object.entries(await this.backbone.stateDict())) out[BACKBONE_PREFIX + k] = v;
    Object.assign(out, await this.heads.stateDict());
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
