import { DEFAULT_CONFIG, type ResNetConfig, resnetConfig, validateConfig } from '../../backbone/config.js';
import { ResdetError } from '../../core/errors.js';
import { DEFAULT_ANCHOR_SIZES, DEFAULT_ASPECT_RATIOS } from '../ops/anchors.js';

/** Region proposal network settings (paper / torchvision defaults). */
export interface RpnConfig {
  /** Proposals kept by objectness before NMS, in training and in inference. */
  preNmsTopNTrain: number;
  preNmsTopNTest: number;
  /** Proposals kept after NMS. */
  postNmsTopNTrain: number;
  postNmsTopNTest: number;
  nmsThreshold: number;
  /** Anchor labelling: IoU >= fgIou positive, < bgIou negative, each GT's best anchor positive. */
  fgIou: number;
  bgIou: number;
  /** Anchors sampled per image for the loss, and the positive share at most. */
  batchSizePerImage: number;
  positiveFraction: number;
  /** Proposals narrower or lower than this (pixels) are dropped. */
  minSize: number;
  /**
   * detectron2's proposal rules instead of torchvision's: NMS ranks by the objectness logit (not
   * its float32 sigmoid, which ties saturated scores) and a box survives only when wider and
   * higher than minSize (strictly; torchvision keeps >= minSize). Absent: torchvision's.
   */
  detectron2Proposals?: boolean;
}

/** The per-RoI head: pooling, conv5_x, classifier and box regressor, and its inference rules. */
export interface RoiHeadsConfig {
  /** RoIPool as the paper, or RoIAlign. */
  pooler: 'pool' | 'align';
  /** Side of the pooled map fed to conv5_x (14 in the paper: conv5_x's stride 2 makes it 7). */
  poolSize: number;
  /** RoIAlign's sampling ratio (0 adaptive) and half-pixel alignment. */
  samplingRatio: number;
  aligned: boolean;
  /** RoIs with IoU >= fgIou are foreground; [bgIouLow, bgIou) background. */
  fgIou: number;
  bgIou: number;
  /** RoIs sampled per image in training and the foreground share at most. */
  batchSizePerImage: number;
  positiveFraction: number;
  /** Inference: detections below this score are dropped before NMS. */
  scoreThreshold: number;
  /** Per-class NMS IoU (0.3 as the paper for VOC, 0.5 for COCO). */
  nmsThreshold: number;
  /** Detections kept per image. */
  detectionsPerImage: number;
  /**
   * Where the background sits in the classifier: 'first' (torchvision: logit 0, and K + 1 box
   * regressors) or 'last' (detectron2: logit K, and K regressors, none for the background).
   * Absent: 'first'.
   */
  background?: 'first' | 'last';
  /**
   * When degenerate boxes go: torchvision drops boxes under 1e-2 px before the per-class NMS;
   * detectron2 keeps them through NMS and top-k and drops empty ones after rescaling to the
   * original image. Absent: 'before-nms'.
   */
  dropEmptyBoxes?: 'before-nms' | 'after-rescale';
}

/** Anchor layout: torchvision's (default) or detectron2's DefaultAnchorGenerator. */
export interface AnchorGeneratorConfig {
  /** 'ratio-major' (torchvision: ratios outer, sizes inner) or 'size-major' (detectron2). */
  order: 'ratio-major' | 'size-major';
  /** Round cell anchors half to even (torchvision) or keep them exact (detectron2). */
  round: boolean;
  /** Fixed grid stride in pixels (detectron2: 16); absent: padded image size // feature size. */
  stride?: number;
}

export interface DetectorConfig {
  /** Backbone architecture name ("resnet50", "resnet18", ...). */
  arch: string;
  /** The ResNet trunk; conv1..conv4_x feed the RPN, conv5_x is the per-RoI head. */
  backbone: ResNetConfig;
  /** Object classes, without the background (the classifier has numClasses + 1 outputs). */
  numClasses: number;
  anchorSizes: number[];
  aspectRatios: number[];
  /** Absent: torchvision's layout (ratio-major, rounded, stride from the padded size). */
  anchorGenerator?: AnchorGeneratorConfig;
  rpn: RpnConfig;
  roiHeads: RoiHeadsConfig;
  /** Padded input sides are multiples of this (torchvision: 32). */
  sizeDivisible: number;
  seed: number;
}

export const DEFAULT_RPN: RpnConfig = {
  preNmsTopNTrain: 12000,
  preNmsTopNTest: 6000,
  postNmsTopNTrain: 2000,
  postNmsTopNTest: 300,
  nmsThreshold: 0.7,
  fgIou: 0.7,
  bgIou: 0.3,
  batchSizePerImage: 256,
  positiveFraction: 0.5,
  minSize: 1e-3,
};

export const DEFAULT_ROI_HEADS: RoiHeadsConfig = {
  pooler: 'pool',
  poolSize: 14,
  samplingRatio: 0,
  aligned: false,
  fgIou: 0.5,
  bgIou: 0.5,
  batchSizePerImage: 128,
  positiveFraction: 0.25,
  scoreThreshold: 0.05,
  nmsThreshold: 0.5,
  detectionsPerImage: 100,
};

export interface DetectorConfigInput {
  arch: string;
  numClasses: number;
  /** Width of the ResNet's first stage (64 standard; 16 for the small CPU detector). */
  baseWidth?: number;
  /** Frozen BN (pretrained backbone) or batch statistics (from scratch). */
  frozenBn?: boolean;
  /** Stages frozen from the input side (2 = conv1 and conv2_x, the paper's default). */
  freezeAt?: number;
  anchorSizes?: number[];
  aspectRatios?: number[];
  anchorGenerator?: AnchorGeneratorConfig;
  rpn?: Partial<RpnConfig>;
  roiHeads?: Partial<RoiHeadsConfig>;
  sizeDivisible?: number;
  seed?: number;
  /** Further ResNet fields (stride placement, shortcut ...) of a pretrained backbone's config. */
  backboneOverrides?: Partial<ResNetConfig>;
}

/** A full detector config from a few choices; everything else takes the paper's defaults. */
export function detectorConfig(input: DetectorConfigInput): DetectorConfig {
  const backbone = resnetConfig(input.arch, {
    ...input.backboneOverrides,
    numClasses: 0,
    ...(input.baseWidth !== undefined ? { baseWidth: input.baseWidth } : {}),
    frozenBn: input.frozenBn ?? true,
    freezeAt: input.freezeAt ?? 2,
    seed: input.seed ?? 0,
  });
  const config: DetectorConfig = {
    arch: input.arch,
    backbone,
    numClasses: input.numClasses,
    anchorSizes: input.anchorSizes ?? [...DEFAULT_ANCHOR_SIZES],
    aspectRatios: input.aspectRatios ?? [...DEFAULT_ASPECT_RATIOS],
    ...(input.anchorGenerator ? { anchorGenerator: input.anchorGenerator } : {}),
    rpn: { ...DEFAULT_RPN, ...input.rpn },
    roiHeads: { ...DEFAULT_ROI_HEADS, ...input.roiHeads },
    sizeDivisible: input.sizeDivisible ?? 32,
    seed: input.seed ?? 0,
  };
  validateDetectorConfig(config);
  return config;
}

/** Checks a config (also one read back from a checkpoint) and names the bad field. */
export function validateDetectorConfig(c: DetectorConfig): void {
  const bad = (field: string, why: string): never => {
    throw new ResdetError(`invalid detector config: ${field} ${why}`);
  };
  if (!c.backbone || typeof c.backbone !== 'object') bad('backbone', 'is missing');
  validateConfig({ ...DEFAULT_CONFIG, ...c.backbone });
  if (c.backbone.stem !== 'imagenet' || c.backbone.layers.length !== 4)
    bad('arch', `must be an ImageNet-style ResNet with 4 stages (C4 split), got ${c.arch}`);
  if (!Number.isInteger(c.numClasses) || c.numClasses < 1) bad('numClasses', 'must be an integer >= 1');
  if (!c.anchorSizes?.length || !c.anchorSizes.every((s) => s > 0))
    bad('anchorSizes', 'must be positive numbers');
  if (!c.aspectRatios?.length || !c.aspectRatios.every((s) => s > 0))
    bad('aspectRatios', 'must be positive numbers');
  if (c.roiHeads.pooler !== 'pool' && c.roiHeads.pooler !== 'align')
    bad('roiHeads.pooler', 'must be pool or align');
  if (!Number.isInteger(c.roiHeads.poolSize) || c.roiHeads.poolSize < 2)
    bad('roiHeads.poolSize', 'must be >= 2');
  for (const [k, v] of Object.entries(c.rpn))
    if (k !== 'detectron2Proposals' && (typeof v !== 'number' || !(v >= 0))) bad(`rpn.${k}`, 'must be >= 0');
  const { background, dropEmptyBoxes } = c.roiHeads;
  if (background !== undefined && background !== 'first' && background !== 'last')
    bad('roiHeads.background', 'must be first or last');
  if (dropEmptyBoxes !== undefined && dropEmptyBoxes !== 'before-nms' && dropEmptyBoxes !== 'after-rescale')
    bad('roiHeads.dropEmptyBoxes', 'must be before-nms or after-rescale');
  const g = c.anchorGenerator;
  if (g !== undefined) {
    if (g.order !== 'ratio-major' && g.order !== 'size-major')
      bad('anchorGenerator.order', 'must be ratio-major or size-major');
    if (typeof g.round !== 'boolean') bad('anchorGenerator.round', 'must be true or false');
    if (g.stride !== undefined && !(g.stride > 0)) bad('anchorGenerator.stride', 'must be > 0');
  }
  if (!Number.isInteger(c.sizeDivisible) || c.sizeDivisible < 1)
    bad('sizeDivisible', 'must be an integer >= 1');
}
