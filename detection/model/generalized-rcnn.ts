import * as tf from '@tensorflow/tfjs';
import type { ConvBn } from '../../backbone/layers.js';
import { type ParamEntry, ParamStore } from '../../backbone/params.js';
import { ResNet } from '../../backbone/resnet.js';
import { Rng } from '../../core/rng.js';
import { type SafeTensor, SafetensorsFile } from '../../core/safetensors.js';
import type { RgbImage } from '../../data/image/decode.js';
import type { NamedVariable } from '../train/sgd.js';
import { type BoxHead, ConvFcHead, TwoMlpHead } from './box-heads.js';
import { type ImageBatch, type ImageTargets, type LossValues, validTargets } from './faster-rcnn.js';
import { ResNetFpnBackbone } from './fpn-backbone.js';
import { type FpnDetectorConfig, validateFpnConfig } from './fpn-config.js';
import { MultiScaleRoiHeads } from './fpn-roi-heads.js';
import { type LevelProposals, Rpn } from './multilevel-rpn.js';
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

  /** The four losses (torchvision's dict) for a batch, targets in resized pixels. */
  lossDict(
    batch: ImageBatch,
    targets: ImageTargets[],
    rng: Rng,
    samplers: SamplerOverrides = {},
  ): RcnnLosses {
    const features = this.backbone.apply(batch.images, true);
    const padded: [number, number] = [batch.images.shape[1], batch.images.shape[2]];
    const gtBoxes = targets.map((t) => t.boxes);
    const rpn = this.rpn.forward(features, batch.imageSizes, padded, { gtBoxes, rng, sampler: samplers.rpn });
    const roi = this.roiHeads.forward(
      features.slice(0, 4),
      rpn.result.proposals.map((p) => p.boxes),
      batch.imageSizes,
      { gtBoxes, gtLabels: targets.map((t) => t.labels), rng, sampler: samplers.roi },
    );
    return { ...rpn.losses, ...roi.losses };
  }

  /** The summed loss (FasterRCNN's training surface); `values` receives the numbers for logging. */
  losses(batch: ImageBatch, targets: ImageTargets[], rng: Rng, values?: Partial<LossValues>): tf.Scalar {
    const l = this.lossDict(batch, targets.map(validTargets), rng);
    const total = tf.addN([
      l.loss_objectness,
      l.loss_rpn_box_reg,
      l.loss_classifier,
      l.loss_box_reg,
    ]) as tf.Scalar;
    if (values) {
      const v = tf
        .stack([l.loss_objectness, l.loss_rpn_box_reg, l.loss_classifier, l.loss_box_reg, total])
        .dataSync();
      [values.rpnObjectness, values.rpnBox, values.classifier, values.box, values.total] = Array.from(v);
    }
    return total;
  }

  /** Proposals (resized pixels, score order) of each image of a batch. */
  proposals(batch: ImageBatch): LevelProposals[] {
    let out: LevelProposals[] = [];
    tf.tidy(() => {
      const features = this.backbone.apply(batch.images, false);
      const padded: [number, number] = [batch.images.shape[1], batch.images.shape[2]];
      out = this.rpn.forward(features, batch.imageSizes, padded, null).result.proposals;
    });
    return out;
  }

  /** Detections per image in the resized images' pixels (best first). */
  detect(
    batch: ImageBatch,
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): RawDetections[] {
    let out: RawDetections[] = [];
    tf.tidy(() => {
      const features = this.backbone.apply(batch.images, false);
      const padded: [number, number] = [batch.images.shape[1], batch.images.shape[2]];
      const { proposals } = this.rpn.forward(features, batch.imageSizes, padded, null).result;
      out = this.roiHeads.forward(
        features.slice(0, 4),
        proposals.map((p) => p.boxes),
        batch.imageSizes,
        null,
        overrides,
      ).result;
    });
    return out;
  }

  /** torchvision's model([image]) for one RGB image: detections in the original image's pixels. */
  detectImage(
    rgb: RgbImage,
    overrides: { scoreThreshold?: number; detectionsPerImage?: number } = {},
  ): RawDetections {
    const { batch, originalHw } = this.prepare(rgb);
    try {
      const [raw] = this.detect(batch, overrides);
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

  namedTrainableVariables(): NamedVariable[] {
    const named = (prefix: string, entries: ParamEntry[]): NamedVariable[] =>
      entries
        .filter((e) => !e.buffer && e.variable.trainable)
        .map((e) => ({
          name: prefix + e.name,
          variable: e.variable,
          decay: e.layout === 'conv' || e.layout === 'linear',
        }));
    return [
      ...named(BODY_PREFIX, this.backbone.body.params.all()),
      ...named('', this.backbone.neck.all()),
      ...named('', this.heads.all()),
    ];
  }

  private allEntries(): { name: string; variable: tf.Variable }[] {
    return [
      ...this.backbone.body.params.all().map((e) => ({ name: BODY_PREFIX + e.name, variable: e.variable })),
      ...this.backbone.neck.all(),
      ...this.heads.all(),
    ];
  }

  nonFiniteParameters(): string[] {
    const entries = this.allEntries().filter((e) => e.variable.dtype === 'float32');
    const flags = tf.tidy(() => tf.stack(entries.map((e) => tf.all(tf.isFinite(e.variable)))).dataSync());
    return entries.filter((_, i) => !flags[i]).map((e) => e.name);
  }

  /** Every parameter and buffer under torchvision's state-dict names. */
  stateDict(): Record<string, SafeTensor> {
    const out: Record<string, SafeTensor> = {};
    for (const [k, v] of Object.entries(this.backbone.body.stateDict())) out[BODY_PREFIX + k] = v;
    Object.assign(out, this.backbone.neck.stateDict(), this.heads.stateDict());
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
