import type { ResNetConfig } from './config.js';

/**
 * The layer-by-layer plan of a ResNet, derived from its config alone. The module builder creates
 * exactly these layers, and `countResNet` counts parameters and multiply-adds from the same plan,
 * so the numbers in `resdet models` describe the network that is built, without allocating it.
 */

export interface ConvSpec {
  /** torchvision module name of the conv ("layer2.0.conv1", "layer2.0.downsample.0"). */
  name: string;
  /** Name of the BatchNorm that follows it ("layer2.0.bn1", "layer2.0.downsample.1"). */
  bn: string;
  inC: number;
  outC: number;
  k: number;
  stride: number;
  /** Symmetric zero padding, as torch's `padding=`. */
  pad: number;
}

export type ShortcutSpec =
  | { kind: 'identity' }
  /** Option A: subsample by `stride` and append zero channels up to outC. */
  | { kind: 'pad'; stride: number; inC: number; outC: number }
  | { kind: 'projection'; conv: ConvSpec }
  /** Plain nets: no shortcut at all. */
  | { kind: 'none' };

export interface BlockSpec {
  prefix: string;
  /** Branch convs in order; every one but the last is followed by ReLU. */
  convs: ConvSpec[];
  shortcut: ShortcutSpec;
  inC: number;
  outC: number;
  stride: number;
}

export interface StageSpec {
  /** "layer1".."layer4". */
  name: string;
  index: number;
  blocks: BlockSpec[];
  outC: number;
}

export interface ResNetPlan {
  stem: ConvSpec;
  maxPool: boolean;
  stages: StageSpec[];
  fc?: { name: string; inF: number; outF: number };
  /** Channels of the last stage (the pooled feature size). */
  featureChannels: number;
}

function conv(name: string, bn: string, inC: number, outC: number, k: number, stride: number): ConvSpec {
  // torchvision pads k // 2: 3 for the 7x7 stem, 1 for 3x3, 0 for 1x1 (stride 1 or 2).
  return { name, bn, inC, outC, k, stride, pad: Math.floor(k / 2) };
}

export function planResNet(c: ResNetConfig): ResNetPlan {
  const imagenet = c.stem === 'imagenet';
  const stem = conv('conv1', 'bn1', c.inChannels, c.baseWidth, imagenet ? 7 : 3, imagenet ? 2 : 1);
  const expansion = c.block === 'bottleneck' ? 4 : 1;
  let inC = c.baseWidth;
  const stages: StageSpec[] = c.layers.map((count, s) => {
    const width = c.baseWidth * 2 ** s;
    const outC = width * expansion;
    const blocks: BlockSpec[] = [];
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const p = `layer${s + 1}.${i}`;
      const convs: ConvSpec[] =
        c.block === 'basic'
          ? [
              conv(`${p}.conv1`, `${p}.bn1`, inC, width, 3, stride),
              conv(`${p}.conv2`, `${p}.bn2`, width, width, 3, 1),
            ]
          : [
              conv(`${p}.conv1`, `${p}.bn1`, inC, width, 1, c.stridePlacement === 'v1' ? stride : 1),
              conv(`${p}.conv2`, `${p}.bn2`, width, width, 3, c.stridePlacement === 'v1' ? 1 : stride),
              conv(`${p}.conv3`, `${p}.bn3`, width, outC, 1, 1),
            ];
      const changes = stride !== 1 || inC !== outC;
      let shortcut: ShortcutSpec;
      if (!c.residual) shortcut = { kind: 'none' };
      else if (c.shortcut === 'C' || (c.shortcut === 'B' && changes))
        shortcut = {
          kind: 'projection',
          conv: conv(`${p}.downsample.0`, `${p}.downsample.1`, inC, outC, 1, stride),
        };
      else if (changes) shortcut = { kind: 'pad', stride, inC, outC };
      else shortcut = { kind: 'identity' };
      blocks.push({ prefix: p, convs, shortcut, inC, outC, stride });
      inC = outC;
    }
    return { name: `layer${s + 1}`, index: s + 1, blocks, outC };
  });
  return {
    stem,
    maxPool: imagenet,
    stages,
    fc: c.numClasses > 0 ? { name: 'fc', inF: inC, outF: c.numClasses } : undefined,
    featureChannels: inC,
  };
}

/** Every conv of the plan in forward order (stem, then each block's branch and projection). */
export function planConvs(plan: ResNetPlan): ConvSpec[] {
  const out = [plan.stem];
  for (const stage of plan.stages) {
    for (const block of stage.blocks) {
      out.push(...block.convs);
      if (block.shortcut.kind === 'projection') out.push(block.shortcut.conv);
    }
  }
  return out;
}

export interface ResNetCost {
  /** Trainable parameters: conv weights, BN scale and shift, fc weight and bias (not BN buffers). */
  params: number;
  /** Multiply-adds of the convs and the fc layer for one image (the paper's "FLOPs"). */
  flops: number;
}

function outSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/** Parameters and multiply-adds of the planned network for one `input` x `input` image. */
export function countResNet(plan: ResNetPlan, input: number): ResNetCost {
  let params = 0;
  let flops = 0;
  const convCost = (spec: ConvSpec, size: number): number => {
    const out = outSize(size, spec.k, spec.stride, spec.pad);
    params += spec.outC * spec.inC * spec.k * spec.k + 2 * spec.outC;
    flops += out * out * spec.outC * spec.inC * spec.k * spec.k;
    return out;
  };
  let size = convCost(plan.stem, input);
  if (plan.maxPool) size = outSize(size, 3, 2, 1);
  for (const stage of plan.stages) {
    for (const block of stage.blocks) {
      const inSize = size;
      for (const spec of block.convs) size = convCost(spec, size);
      if (block.shortcut.kind === 'projection') convCost(block.shortcut.conv, inSize);
    }
  }
  if (plan.fc) {
    params += plan.fc.inF * plan.fc.outF + plan.fc.outF;
    flops += plan.fc.inF * plan.fc.outF;
  }
  return { params, flops };
}
