import { DEFAULT_CONFIG, type ResNetConfig, validateConfig } from '../../backbone/config.js';
import { ResdetError } from '../../core/errors.js';
import { IMAGENET_MEAN, IMAGENET_STD, type Normalization } from '../../core/normalization.js';
import { DEFAULT_ROI_HEADS, DEFAULT_RPN, type RoiHeadsConfig, type RpnConfig } from './config.js';

/**
 * torchvision's Faster R-CNN R50-FPN detectors. `v1` is fasterrcnn_resnet50_fpn (FrozenBN in the
 * body, one-conv RPN head, TwoMLPHead); `v2` is fasterrcnn_resnet50_fpn_v2 (BN everywhere, FPN
 * convs with BN, two-conv RPN head, four conv+BN then one FC box head).
 */
export type FpnVariant = 'v1' | 'v2';

export const FPN_ARCHS: Readonly<Record<string, FpnVariant>> = {
  fasterrcnn_resnet50_fpn: 'v1',
  fasterrcnn_resnet50_fpn_v2: 'v2',
};

/** torchvision's _default_anchorgen: sizes 32 .. 512, one per level ('0' .. 'pool'). */
export const FPN_ANCHOR_SIZES: readonly number[] = [32, 64, 128, 256, 512];

/** GeneralizedRCNNTransform's settings. */
export interface RcnnTransformConfig extends Normalization {
  minSize: number;
  maxSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  sizeDivisible: number;
}

/** MultiScaleRoIAlign's LevelMapper: level = floor(canonicalLevel + log2(sqrt(area) / canonicalScale) + eps). */
export interface LevelMapperConfig {
  canonicalScale: number;
  canonicalLevel: number;
  eps: number;
}

export interface FpnDetectorConfig {
  kind: 'fpn';
  /** "fasterrcnn_resnet50_fpn" or "fasterrcnn_resnet50_fpn_v2". */
  arch: string;
  variant: FpnVariant;
  /** The ResNet body (layer1..layer4 feed the FPN); its bnEps is 0 for v1's published weights. */
  backbone: ResNetConfig;
  /** FPN output channels (256 in torchvision's models). */
  fpnChannels: number;
  /** Box-head output features (1024). */
  representationSize: number;
  /** Object classes without the background (torchvision's num_classes - 1: 90 for COCO). */
  numClasses: number;
  /** One anchor size per pyramid level ('0', '1', '2', '3', 'pool'). */
  anchorSizes: number[];
  aspectRatios: number[];
  rpn: RpnConfig & { scoreThreshold: number };
  roiHeads: RoiHeadsConfig;
  levelMapper: LevelMapperConfig;
  transform: RcnnTransformConfig;
  seed: number;
}

/** torchvision's defaults for the R50-FPN detectors. */
export const FPN_RPN: RpnConfig & { scoreThreshold: number } = {
  ...DEFAULT_RPN,
  preNmsTopNTrain: 2000,
  preNmsTopNTest: 1000,
  postNmsTopNTrain: 2000,
  postNmsTopNTest: 1000,
  scoreThreshold: 0,
};

export const FPN_ROI_HEADS: RoiHeadsConfig = {
  ...DEFAULT_ROI_HEADS,
  pooler: 'align',
  poolSize: 7,
  samplingRatio: 2,
  aligned: false,
  batchSizePerImage: 512,
};

export const FPN_TRANSFORM: RcnnTransformConfig = {
  minSize: 800,
  maxSize: 1333,
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  sizeDivisible: 32,
};

export const FPN_LEVEL_MAPPER: LevelMapperConfig = { canonicalScale: 224, canonicalLevel: 4, eps: 1e-6 };

export function isFpnConfig(c: unknown): c is FpnDetectorConfig {
  return typeof c === 'object' && c !== null && (c as { kind?: unknown }).kind === 'fpn';
}

/** Checks a config (also one read back from a checkpoint) and names the bad field. */
export function validateFpnConfig(c: FpnDetectorConfig): void {
  const bad = (field: string, why: string): never => {
    throw new ResdetError(`invalid FPN detector config: ${field} ${why}`);
  };
  if (c.variant !== 'v1' && c.variant !== 'v2') bad('variant', `must be v1 or v2, got ${c.variant}`);
  if (!c.backbone || typeof c.backbone !== 'object') bad('backbone', 'is missing');
  validateConfig({ ...DEFAULT_CONFIG, ...c.backbone });
  if (c.backbone.stem !== 'imagenet' || c.backbone.layers.length !== 4 || c.backbone.block !== 'bottleneck')
    bad('backbone', 'must be a 4-stage ImageNet Bottleneck ResNet');
  for (const f of ['fpnChannels', 'representationSize', 'numClasses'] as const)
    if (!Number.isInteger(c[f]) || c[f] < 1) bad(f, 'must be a positive integer');
  if (c.anchorSizes?.length !== 5 || !c.anchorSizes.every((s) => s > 0))
    bad('anchorSizes', 'must be 5 positive sizes (one per level)');
  if (!c.aspectRatios?.length || !c.aspectRatios.every((s) => s > 0)) bad('aspectRatios', 'must be positive');
  const t = c.transform;
  if (!t || !(t.minSize > 0) || !(t.maxSize >= t.minSize) || !(t.sizeDivisible >= 1))
    bad('transform', 'needs minSize > 0, maxSize >= minSize, sizeDivisible >= 1');
}
