import * as tf from '@tensorflow/tfjs';
import { type ConvBn, withoutRunningStatsUpdate } from '../../backbone/layers.js';
import { ParamStore, trainableParams } from '../../backbone/params.js';
import { ResNet } from '../../backbone/resnet.js';
import { Rng } from '../../core/rng.js';
import { type SafeTensor, SafetensorsFile } from '../../core/safetensors.js';
import type { RgbImage } from '../../data/image/decode.js';
import type { NamedParam } from '../../core/train/sgd.js';
import { type BoxHead, ConvFcHead, TwoMlpHead } from './box-heads.js';
import {
  differentiatePlan,
  nonFiniteNames,
  type ImageBatch,
  type ImageTargets,
  type LossPlan,
  type LossValues,
  validTargets,
} from './faster-rcnn.js';
import { ResNetFpnBackbone } from './fpn-backbone.js';
import { type FpnDetectorConfig, validateFpnConfig } from './fpn-config.js';
import { MultiScaleRoiHeads } from './fpn-roi-heads.js';
import { type LevelProposals, Rpn, type RpnResult } from './multilevel-rpn.js';
import { boxesToOriginalSize, padToMultiple, rcnnTransform } from './rcnn-transform.js';
import { BoxPredictor, type RawDetections } from './roi-heads.js';
import type { Sampler } from './rpn.js';

const BODY_PREFIX = 'backbone.body.';

/** The four losses under torchvision's names. */
export interface RcnnLosses {
  loss_objectness: tf.Scalar;
  loss_rpn_box_reg: tf.Scalar;
  loss_classifier: tf.Scalar;
  loss_box_reg: tf.Scalar;
}

/** Test hooks: replay torchvision's random draws (its samplers use torch.randperm). */
export interface SamplerOverrides {
  rpn?: Sampler;
  roi?: Sampler;
}

/**
 * torchvision's GeneralizedRCNN with the R50-FPN parts: transform -> backbone + FPN -> RPN over
 * five levels -> MultiScaleRoIAlign RoI heads -> postprocess back to the original image. Same
 * training surface as the C4 FasterRCNN (losses / detect on an ImageBatch, named variables,
 * state dict), so the detector trainer, checkpoints and `Detector` take either.
 */
export class FpnFasterRCNN {
  readonly config: FpnDetectorConfig;
  readonly backbone: ResNetFpnBackbone;
  readonly heads: ParamStore;
  readonly rpn: Rpn;
  readonly roiHeads: MultiScaleRoiHeads;
  readonly predictor: BoxPredictor;
  private readonly boxHead: BoxHead;

  constructor(config: FpnDetectorConfig) {
    validateFpnConfig(config);
    this.config = config;
    const rng = new Rng(config.seed + 1);
    const body = new ResNet({ ...config.backbone, numClasses: 0 });
    this.backbone = new ResNetFpnBackbone(body, config.fpnChannels, config.variant, rng);
    this.heads = new ParamStore();
    this.rpn = new Rpn(
      this.heads,
      config.fpnChannels,
      config.anchorSizes,
      config.aspectRatios,
      config.variant === 'v1' ? 1 : 2,
      config.rpn,
      rng,
    );
    const p = config.roiHeads.poolSize;
    this.boxHead =
      config.variant === 'v1'
        ? new TwoMlpHead(this.heads, config.fpnChannels * p * p, config.representationSize, rng)
        : new ConvFcHead(this.heads, config.fpnChannels, p, 4, config.representationSize, rng);
    this.predictor = new BoxPredictor(this.heads, config.representationSize, config.numClasses, rng);
    this.roiHeads = new MultiScaleRoiHeads(
      this.boxHead,
      this.predictor,
      config.roiHeads,
      config.levelMapper,
      config.numClasses,
    );
    // One BN mode for the body, the FPN and the box head (the config's, as saved with the weights).
    this.setFrozenBn(config.backbone.frozenBn);
  }

  get numClasses(): number {
    return this.config.numClasses;
  }

  /** Normalised, resized, padded input for one RGB image, exactly as torchvision's transform. */
  prepare(rgb: RgbImage): { batch: ImageBatch; originalHw: [number, number] } {
    const t = rcnnTransform(rgb, this.config.transform);
    const padded = padToMultiple(t, this.config.transform.sizeDivisible);
    return {
      batch: {
        images: tf.tensor4d(padded.data, [1, padded.hw[0], padded.hw[1], 3]),
        imageSizes: [[t.height, t.width]],
      },
      originalHw: [t.originalHeight, t.originalWidth],
    };
  }

  /** Pyramid features and the RPN heads' outputs, with each level's grid (features kept for the RoI head). */
  private pyramid(images: tf.Tensor4D, training: boolean) {
    const features = this.backbone.apply(images, training);
    const grids = features.map((f) => [f.shape[1], f.shape[2]] as [number, number]);
    return { features, grids, ...this.rpn.heads(features) };
  }

  /**
   * The first half of a training step, outside the gradient tape (FasterRCNN.planLosses's
   * contract): backbone, FPN and RPN forward without touching BN running statistics, proposals,
   * the RPN's and the RoI head's samples (from `rng`; `samplers` replays fixed draws in tests).
   */
  async planLosses(
    batch: ImageBatch,
    targets: ImageTargets[],
    rng: Rng,
    samplers: SamplerOverrides = {},
  ): Promise<LossPlan> {
    const clean = targets.map(validTargets);
    const padded: [number, number] = [batch.images.shape[1], batch.images.shape[2]];
    const { objectness, deltas, grids } = withoutRunningStatsUpdate(() =>
      tf.tidy(() => {
        const p = this.pyramid(batch.images, true);
        return { objectness: p.objectness, deltas: p.deltas, grids: p.grids.flat() };
      }),
    );
    let selected: RpnResult;
    try {
      const levels = grids.length / 2;
      const pairs = Array.from(
        { length: levels },
        (_, l) => [grids[2 * l], grids[2 * l + 1]] as [number, number],
      );
      selected = await this.rpn.propose(objectness, deltas, pairs, batch.imageSizes, padded, true);
    } finally {
      objectness.dispose();
      deltas.dispose();
    }
    const rpn = clean.map((t) => this.rpn.targets(selected.anchors, t.boxes, rng, samplers.rpn));
    const samples = this.roiHeads.sample(
      selected.proposals.map((p) => p.boxes),
      {
        gtBoxes: clean.map((t) => t.boxes),
        gtLabels: clean.map((t) => t.labels),
        rng,
        sampler: samplers.roi,
      },
    );
    return { targets: clean, rpn, anchorsPerImage: selected.anchors.length / 4, samples };
  }

  /** The four losses under torchvision's names for a planned batch (synchronous, on the tape). */
  lossDict(batch: ImageBatch, plan: LossPlan): RcnnLosses {
    const { features, objectness, deltas } = this.pyramid(batch.images, true);
    return {
      ...this.rpn.loss(objectness, deltas, plan.rpn, plan.anchorsPerImage),
      ...this.roiHeads.loss(features.slice(0, 4), plan.samples, batch.imageSizes),
    };
  }

  /** FasterRCNN.losses's contract: the total and the five values stacked in LossValues order. */
  losses(batch: ImageBatch, plan: LossPlan): { total: tf.Scalar; parts: tf.Tensor1D } {
    const l = this.lossDict(batch, plan);
    const total = tf.addN([
      l.loss_objectness,
      l.loss_rpn_box_reg,
      l.loss_classifier,
      l.loss_box_reg,
    ]) as tf.Scalar;
    const parts = tf.stack([
      l.loss_objectness,
      l.loss_rpn_box_reg,
      l.loss_classifier,
      l.loss_box_reg,
      total,
    ]) as tf.Tensor1D;
    return { total, parts };
  }

  /** One training step's gradients and loss values (planLosses, then `losses` on the tape). */
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

  /** Proposals (resized pixels, score order) of each image of a batch. */
  async proposals(batch: ImageBatch): Promise<LevelProposals[]> {
    const padded: [number, number] = [batch.images.shape[1], batch.images.shape[2]];
    const { objectness, deltas, grids } = tf.tidy(() => {
      const p = this.pyramid(batch.images, false);
      return { objectness: p.objectness, deltas: p.deltas, grids: p.grids.flat() };
    });
    try {
      const pairs = Array.from(
        { length: grids.length / 2 },
        (_, l) => [grids[2 * l], grids[2 * l + 1]] as [number, number],
      );
      return (await this.rpn.propose(objectness, deltas, pairs, batch.imageSizes, padded, false)).proposals;
    } finally {
      objectness.dispose();
      deltas.dispose();
    }
  }

  /** Detections per image in the resized images' pixels (best first). */
  async detect(
    batch: ImageBatch,
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): Promise<RawDetections[]> {
    const padded: [number, number] = [batch.images.shape[1], batch.images.shape[2]];
    const { features, objectness, deltas, grids } = tf.tidy(() => {
      const p = this.pyramid(batch.images, false);
      return {
        features: p.features.slice(0, 4),
        objectness: p.objectness,
        deltas: p.deltas,
        grids: p.grids.flat(),
      };
    });
    try {
      const pairs = Array.from({ length: 5 }, (_, l) => [grids[2 * l], grids[2 * l + 1]] as [number, number]);
      const { proposals } = await this.rpn.propose(
        objectness,
        deltas,
        pairs,
        batch.imageSizes,
        padded,
        false,
      );
      return await this.roiHeads.detect(
        features,
        proposals.map((p) => p.boxes),
        batch.imageSizes,
        overrides,
      );
    } finally {
      tf.dispose([...features, objectness, deltas]);
    }
  }

  /** torchvision's model([image]) for one RGB image: detections in the original image's pixels. */
  async detectImage(
    rgb: RgbImage,
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): Promise<RawDetections> {
    const { batch, originalHw } = this.prepare(rgb);
    try {
      const [raw] = await this.detect(batch, overrides);
      return { ...raw, boxes: boxesToOriginalSize(raw.boxes, batch.imageSizes[0], originalHw) };
    } finally {
      batch.images.dispose();
    }
  }

  /** BN units outside the ResNet body (v2's FPN and box head). */
  private extraNorms(): ConvBn[] {
    return this.boxHead.norms;
  }

  /** Frozen (running statistics, fixed affine) or trainable BN in the body, FPN and box head. */
  setFrozenBn(frozen: boolean): void {
    this.backbone.body.setFrozenBn(frozen);
    this.config.backbone.frozenBn = frozen;
    for (const unit of [...this.extraNorms(), ...this.backbone.norms]) {
      unit.frozen = frozen;
      for (const v of unit.bnParams()) v.trainable = !frozen;
    }
  }

  /** Freezes the body's first `freezeAt` stages (0 none .. 5 the whole ResNet), as torchvision's trainable_layers = 5 - freezeAt. */
  setFreezeAt(freezeAt: number): void {
    this.backbone.body.setFreezeAt(freezeAt);
    this.config.backbone.freezeAt = freezeAt;
  }

  trainableVariables(): tf.Variable[] {
    return this.namedTrainableVariables().map((v) => v.variable);
  }

  namedTrainableVariables(): NamedParam[] {
    return [
      ...trainableParams(this.backbone.body.params.all(), BODY_PREFIX),
      ...trainableParams(this.backbone.neck.all()),
      ...trainableParams(this.heads.all()),
    ];
  }

  private allEntries(): { name: string; variable: tf.Variable }[] {
    return [
      ...this.backbone.body.params.all().map((e) => ({ name: BODY_PREFIX + e.name, variable: e.variable })),
      ...this.backbone.neck.all(),
      ...this.heads.all(),
    ];
  }

  async nonFiniteParameters(): Promise<string[]> {
    return nonFiniteNames(this.allEntries());
  }

  /** Every parameter and buffer under torchvision's state-dict names. */
  async stateDict(): Promise<Record<string, SafeTensor>> {
    const out: Record<string, SafeTensor> = {};
    for (const [k, v] of Object.entries(await this.backbone.body.stateDict())) out[BODY_PREFIX + k] = v;
    Object.assign(out, await this.backbone.neck.stateDict(), await this.heads.stateDict());
    return out;
  }

  /** Torch shapes of every tensor, by state-dict name. */
  torchShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(this.backbone.body.params.torchShapes())) out[BODY_PREFIX + k] = v;
    return { ...out, ...this.backbone.neck.torchShapes(), ...this.heads.torchShapes() };
  }

  /** Loads a full state dict (strict: every problem listed by name). */
  loadStateDict(source: SafetensorsFile | Record<string, SafeTensor>, label = 'state dict'): void {
    const parts = {
      body: {} as Record<string, SafeTensor>,
      neck: {} as Record<string, SafeTensor>,
      heads: {} as Record<string, SafeTensor>,
    };
    const file = source instanceof SafetensorsFile ? source : undefined;
    const names = file ? file.names() : Object.keys(source);
    for (const name of names) {
      const t = file ? file.tensor(name) : (source as Record<string, SafeTensor>)[name];
      if (name.startsWith(BODY_PREFIX)) parts.body[name.slice(BODY_PREFIX.length)] = t;
      else if (name.startsWith('backbone.')) parts.neck[name] = t;
      else parts.heads[name] = t;
    }
    this.backbone.body.params.loadStateDict(parts.body, {}, `${label} (backbone.body)`);
    this.backbone.neck.loadStateDict(parts.neck, {}, label);
    this.heads.loadStateDict(parts.heads, {}, label);
  }

  dispose(): void {
    this.backbone.dispose();
    this.heads.dispose();
  }
}
