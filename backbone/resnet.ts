import * as tf from '@tensorflow/tfjs';
import { ResdetError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { SafeTensor, SafetensorsFile } from '../core/safetensors.js';
import { type ResNetConfig, validateConfig } from './config.js';
import { ConvBn, Linear, symmetricPad } from './layers.js';
import { type LoadStateDictOptions, type LoadStateDictResult, ParamStore } from './params.js';
import { type BlockSpec, countResNet, planResNet, type ResNetCost, type ResNetPlan } from './plan.js';

/** Names of the feature maps `features()` returns (those of the torchvision fixture). */
export type FeatureName = 'stem_relu' | 'stem' | 'layer1' | 'layer2' | 'layer3' | 'layer4';

class Block {
  readonly spec: BlockSpec;
  readonly units: ConvBn[];
  readonly projection?: ConvBn;

  constructor(store: ParamStore, spec: BlockSpec, rng: Rng | null, zeroInitResidual: boolean) {
    this.spec = spec;
    this.units = spec.convs.map(
      (c, i) =>
        new ConvBn(
          store,
          c,
          rng,
          zeroInitResidual && spec.shortcut.kind !== 'none' && i === spec.convs.length - 1,
        ),
    );
    if (spec.shortcut.kind === 'projection') this.projection = new ConvBn(store, spec.shortcut.conv, rng);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    let y = x;
    const last = this.units.length - 1;
    // No ReLU after the branch's last BN: it comes after the addition.
    this.units.forEach((unit, i) => {
      y = unit.apply(y, training, i < last || this.spec.shortcut.kind === 'none');
    });
    const sc = this.spec.shortcut;
    if (sc.kind === 'none') return y;
    let shortcut: tf.Tensor4D;
    if (sc.kind === 'identity') shortcut = x;
    else if (sc.kind === 'projection') shortcut = (this.projection as ConvBn).apply(x, training, false);
    else {
      // Option A: the identity subsampled like the branch, zero channels appended (parameter-free).
      // One strided 1x1 conv with the filter [I | 0] does both exactly, and unlike stridedSlice
      // it has a gradient in TF.js.
      shortcut = tf.conv2d(x, this.optionAFilter(sc.inC, sc.outC), sc.stride, 'valid');
    }
    return tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
  }

  private padFilter?: tf.Tensor4D;

  private optionAFilter(inC: number, outC: number): tf.Tensor4D {
    if (!this.padFilter) {
      const eye = new Float32Array(inC * outC);
      for (let c = 0; c < inC; c++) eye[c * outC + c] = 1;
      this.padFilter = tf.keep(tf.tensor4d(eye, [1, 1, inC, outC]));
    }
    return this.padFilter;
  }

  dispose(): void {
    this.padFilter?.dispose();
    this.padFilter = undefined;
  }

  allUnits(): ConvBn[] {
    return this.projection ? [...this.units, this.projection] : this.units;
  }
}

/**
 * A ResNet built from a config: the paper's ImageNet and CIFAR networks, their plain
 * counterparts, torchvision-compatible names and layouts. Inputs are NHWC float32, normalised.
 * Stage 0 is the stem (conv1, bn1, relu, max-pool); stages 1..4 are torchvision's layer1..layer4.
 */
export class ResNet {
  readonly config: ResNetConfig;
  readonly plan: ResNetPlan;
  readonly params: ParamStore;
  private readonly stemUnit: ConvBn;
  private readonly stages: Block[][];
  private readonly fc?: Linear;
  private disposed = false;

  constructor(config: ResNetConfig, opts: BuildOptions = {}) {
    validateConfig(config);
    this.config = { ...config, layers: [...config.layers] };
    this.plan = planResNet(this.config);
    this.params = new ParamStore();
    const rng = opts.initialize === false ? null : new Rng(config.seed);
    this.stemUnit = new ConvBn(this.params, this.plan.stem, rng);
    this.stages = this.plan.stages.map((s) =>
      s.blocks.map((b) => new Block(this.params, b, rng, config.zeroInitResidual)),
    );
    if (this.plan.fc) this.fc = new Linear(this.params, 'fc', this.plan.fc.inF, this.plan.fc.outF, rng);
    if (config.bnEps !== undefined) for (const unit of this.allUnits()) unit.eps = config.bnEps;
    this.applyFreezing();
  }

  /** Number of residual stages (4 for ImageNet nets, 3 for CIFAR nets). */
  get numStages(): number {
    return this.stages.length;
  }

  /** Output channels of stage i (0 = stem). */
  stageChannels(i: number): number {
    return i === 0 ? this.plan.stem.outC : this.plan.stages[this.checkStage(i) - 1].outC;
  }

  /** Total stride of stage i's output relative to the input (stem: 4 for ImageNet, 1 for CIFAR). */
  stageStride(i: number): number {
    const stem = this.plan.maxPool ? 4 : this.plan.stem.stride;
    return i === 0 ? stem : stem * 2 ** (this.checkStage(i) - 1);
  }

  /** conv1 + bn1 + ReLU (+ the 3x3/2 max-pool for ImageNet nets). */
  stem(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => this.stemPool(this.stemRelu(x, training)));
  }

  /** torchvision's layer{i}, i in 1..numStages. */
  stage(i: number, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const blocks = this.stages[this.checkStage(i) - 1];
    return tf.tidy(() => blocks.reduce((y, block) => block.apply(y, training), x));
  }

  /** Global average pool: [N, H, W, C] -> [N, C]. */
  pool(x: tf.Tensor4D): tf.Tensor2D {
    return tf.mean(x, [1, 2]) as tf.Tensor2D;
  }

  /** Average pool then fc (pooled features when the net has no fc). */
  head(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const pooled = this.pool(x);
      return this.fc ? this.fc.apply(pooled) : pooled;
    });
  }

  /** Logits [N, numClasses] for NHWC float32 input normalised with the model's mean/std. */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    this.checkInput(x);
    return tf.tidy(() => {
      let y = this.stem(x, training);
      for (let i = 1; i <= this.numStages; i++) y = this.stage(i, y, training);
      return this.head(y);
    });
  }

  /** Every stage's output (inference by default); the caller disposes them. */
  features(x: tf.Tensor4D, training = false): Partial<Record<FeatureName, tf.Tensor4D>> {
    this.checkInput(x);
    return tf.tidy(() => {
      const out: Partial<Record<FeatureName, tf.Tensor4D>> = {};
      out.stem_relu = this.stemRelu(x, training);
      out.stem = this.stemPool(out.stem_relu);
      let y = out.stem;
      for (let i = 1; i <= this.numStages; i++) {
        y = this.stage(i, y, training);
        out[`layer${i}` as FeatureName] = y;
      }
      return out as Record<string, tf.Tensor4D>;
    });
  }

  /** Parameters an optimizer should update (frozen stages and frozen BN affine excluded). */
  trainableVariables(): tf.Variable[] {
    return this.params.trainableVariables();
  }

  /** Freezes the stem (1), stem and layer1 (2), ... : parameters fixed and BN frozen there. */
  setFreezeAt(freezeAt: number): void {
    this.config.freezeAt = freezeAt;
    validateConfig(this.config);
    this.applyFreezing();
  }

  /** Frozen BN everywhere (running statistics, fixed affine) or batch statistics in training. */
  setFrozenBn(frozen: boolean): void {
    this.config.frozenBn = frozen;
    this.applyFreezing();
  }

  stateDict(): Promise<Record<string, SafeTensor>> {
    return this.params.stateDict();
  }

  loadStateDict(
    source: SafetensorsFile | Record<string, SafeTensor>,
    opts: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    return this.params.loadStateDict(source, opts);
  }

  /** Parameters and multiply-adds at `input` px (default: the native size of the stem). */
  cost(input = this.config.stem === 'imagenet' ? 224 : 32): ResNetCost {
    return countResNet(this.plan, input);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const unit of this.allUnits()) unit.releaseCache();
    for (const block of this.stages.flat()) block.dispose();
    this.params.dispose();
  }

  private stemRelu(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.stemUnit.apply(x, training, true);
  }

  private stemPool(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.plan.maxPool) return x;
    // Padding 1 on every side, as torch's max-pool. Its input follows a ReLU, so zero padding
    // (what symmetricPad adds on the tensorflow backend) never wins, as torch's -inf padding.
    const { input, pad } = symmetricPad(x, 1, 3, 2);
    return tf.maxPool(input, 3, 2, pad);
  }

  private allUnits(): ConvBn[] {
    return [this.stemUnit, ...this.stages.flat().flatMap((b) => b.allUnits())];
  }

  private applyFreezing(): void {
    const { freezeAt, frozenBn } = this.config;
    const stageUnits: ConvBn[][] = [
      [this.stemUnit],
      ...this.stages.map((s) => s.flatMap((b) => b.allUnits())),
    ];
    stageUnits.forEach((units, s) => {
      const frozenStage = s < freezeAt;
      for (const unit of units) {
        unit.frozen = frozenBn || frozenStage;
        unit.weight.trainable = !frozenStage;
        for (const v of unit.bnParams()) v.trainable = !unit.frozen;
      }
    });
  }

  private checkStage(i: number): number {
    if (!Number.isInteger(i) || i < 1 || i > this.stages.length)
      throw new RangeError(`stage ${i} does not exist (this ResNet has stages 1..${this.stages.length})`);
    return i;
  }

  private checkInput(x: tf.Tensor): void {
    if (this.disposed) throw new ResdetError('this ResNet has been disposed');
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels) {
      throw new ResdetError(
        `ResNet input must be NHWC with ${this.config.inChannels} channels, got shape [${x.shape.join(', ')}]`,
      );
    }
  }
}

export interface BuildOptions {
  /** false skips He initialisation (weights start at zero): for models about to load a state dict. */
  initialize?: boolean;
}

export function buildResNet(config: ResNetConfig, opts: BuildOptions = {}): ResNet {
  return new ResNet(config, opts);
}
