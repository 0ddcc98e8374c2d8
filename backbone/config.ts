import { ResdetError } from '../core/errors.js';

/**
 * Hyper-parameters of one ResNet. The defaults reproduce torchvision's ImageNet models; the CIFAR
 * networks of the paper's §4.2 use the `cifar` stem, three stages and option-A shortcuts.
 */

/** A: zero-padded identity where dimensions change; B: projection there only; C: projections everywhere. */
export type ShortcutOption = 'A' | 'B' | 'C';
/** Where a Bottleneck's stride sits: `v1` the first 1x1 (paper, Caffe), `v1.5` the 3x3 (torchvision). */
export type StridePlacement = 'v1' | 'v1.5';
export type BlockKind = 'basic' | 'bottleneck';
/** `imagenet`: 7x7/2 conv + 3x3/2 max-pool; `cifar`: one 3x3/1 conv, no pooling. */
export type StemKind = 'imagenet' | 'cifar';

export interface ResNetConfig {
  block: BlockKind;
  /** Blocks per stage (4 stages for ImageNet nets, 3 for CIFAR nets). */
  layers: number[];
  stem: StemKind;
  /** Width of the stem and of the first stage; stage i has baseWidth * 2^(i-1) (x4 out for Bottleneck). */
  baseWidth: number;
  /** false builds the paper's "plain" counterpart: the same layers, no shortcuts. */
  residual: boolean;
  shortcut: ShortcutOption;
  stridePlacement: StridePlacement;
  /** Classes of the fc layer; 0 builds a headless trunk (forward returns pooled features). */
  numClasses: number;
  inChannels: number;
  /** Start each residual branch's last BN scale at 0, so every block starts as the identity. */
  zeroInitResidual: boolean;
  /** All BN layers use running statistics and a fixed affine (detection fine-tuning). */
  frozenBn: boolean;
  /**
   * Freeze the first stages (parameters not trainable, their BN frozen): 0 nothing, 1 the stem
   * (conv1), 2 the stem and layer1 (the paper's conv1 + conv2_x, detectron's FREEZE_AT=2), up to 5.
   */
  freezeAt: number;
  /** Seed for He initialisation. */
  seed: number;
  /** BatchNorm epsilon (default torch's 1e-5; torchvision's published R50-FPN v1 runs its frozen BN with 0). */
  bnEps?: number;
}

export interface ArchSpec {
  /** Config fields that define the architecture (the rest take defaults). */
  config: Pick<ResNetConfig, 'block' | 'layers' | 'stem' | 'baseWidth' | 'residual' | 'shortcut'>;
  /** Native input side: 224 for ImageNet nets, 32 for CIFAR nets. */
  input: number;
  /** Classes of the dataset the architecture was defined for (1000 or 10). */
  classes: number;
  description: string;
}

function imagenet(block: BlockKind, layers: number[], residual: boolean): ArchSpec {
  const depth = layers.reduce((a, b) => a + b, 0) * (block === 'basic' ? 2 : 3) + 2;
  return {
    config: { block, layers, stem: 'imagenet', baseWidth: 64, residual, shortcut: 'B' },
    input: 224,
    classes: 1000,
    description: `${residual ? 'ResNet' : 'plain'}-${depth}, ImageNet (paper Table 1)`,
  };
}

function cifar(n: number, residual: boolean): ArchSpec {
  return {
    config: {
      block: 'basic',
      layers: [n, n, n],
      stem: 'cifar',
      baseWidth: 16,
      residual,
      shortcut: 'A',
    },
    input: 32,
    classes: 10,
    description: `${residual ? 'ResNet' : 'plain'}-${6 * n + 2}, CIFAR-10 (paper §4.2, option A)`,
  };
}

/** Every named architecture: the paper's ImageNet and CIFAR ResNets and their plain counterparts. */
export const RESNET_ARCHS: Readonly<Record<string, ArchSpec>> = {
  resnet18: imagenet('basic', [2, 2, 2, 2], true),
  resnet34: imagenet('basic', [3, 4, 6, 3], true),
  resnet50: imagenet('bottleneck', [3, 4, 6, 3], true),
  resnet101: imagenet('bottleneck', [3, 4, 23, 3], true),
  resnet152: imagenet('bottleneck', [3, 8, 36, 3], true),
  plain18: imagenet('basic', [2, 2, 2, 2], false),
  plain34: imagenet('basic', [3, 4, 6, 3], false),
  resnet20: cifar(3, true),
  resnet32: cifar(5, true),
  resnet44: cifar(7, true),
  resnet56: cifar(9, true),
  resnet110: cifar(18, true),
  resnet1202: cifar(200, true),
  plain20: cifar(3, false),
  plain32: cifar(5, false),
  plain44: cifar(7, false),
  plain56: cifar(9, false),
  plain110: cifar(18, false),
};

export const DEFAULT_CONFIG: Omit<ResNetConfig, keyof ArchSpec['config']> = {
  stridePlacement: 'v1.5',
  numClasses: 1000,
  inChannels: 3,
  zeroInitResidual: false,
  frozenBn: false,
  freezeAt: 0,
  seed: 0,
};

export function archSpec(arch: string): ArchSpec {
  const spec = RESNET_ARCHS[arch];
  if (!spec) {
    throw new ResdetError(
      `unknown architecture "${arch}"`,
      `choose one of: ${Object.keys(RESNET_ARCHS).join(', ')} (see \`resdet models\`)`,
    );
  }
  return spec;
}

/** The full config of a named architecture; `overrides` change any field (e.g. numClasses, baseWidth). */
export function resnetConfig(arch: string, overrides: Partial<ResNetConfig> = {}): ResNetConfig {
  const spec = archSpec(arch);
  const config: ResNetConfig = {
    ...DEFAULT_CONFIG,
    numClasses: spec.classes,
    ...spec.config,
    layers: [...spec.config.layers],
    ...overrides,
  };
  validateConfig(config);
  return config;
}

/** Checks a config (e.g. one read from a checkpoint) and says which field is wrong. */
export function validateConfig(c: ResNetConfig): void {
  const bad = (field: string, why: string): never => {
    throw new ResdetError(`invalid ResNet config: ${field} ${why}`);
  };
  if (c.block !== 'basic' && c.block !== 'bottleneck')
    bad('block', `must be basic or bottleneck, got ${c.block}`);
  if (c.stem !== 'imagenet' && c.stem !== 'cifar') bad('stem', `must be imagenet or cifar, got ${c.stem}`);
  if (
    !Array.isArray(c.layers) ||
    c.layers.length < 1 ||
    !c.layers.every((n) => Number.isInteger(n) && n >= 1)
  )
    bad('layers', `must be a non-empty list of positive integers, got ${JSON.stringify(c.layers)}`);
  if (!Number.isInteger(c.baseWidth) || c.baseWidth < 1) bad('baseWidth', `must be a positive integer`);
  if (!['A', 'B', 'C'].includes(c.shortcut)) bad('shortcut', `must be A, B or C, got ${c.shortcut}`);
  if (c.stridePlacement !== 'v1' && c.stridePlacement !== 'v1.5')
    bad('stridePlacement', `must be v1 or v1.5, got ${c.stridePlacement}`);
  if (!Number.isInteger(c.numClasses) || c.numClasses < 0) bad('numClasses', 'must be an integer >= 0');
  if (!Number.isInteger(c.inChannels) || c.inChannels < 1) bad('inChannels', 'must be a positive integer');
  if (!Number.isInteger(c.freezeAt) || c.freezeAt < 0 || c.freezeAt > c.layers.length + 1)
    bad('freezeAt', `must be an integer in 0..${c.layers.length + 1}`);
}
