import { RESNET_ARCHS, resnetConfig, type StridePlacement } from './config.js';
import { countResNet, planResNet } from './plan.js';

export interface ArchSummary {
  arch: string;
  /** Trainable parameters (conv, BN affine, fc) with the architecture's own number of classes. */
  params: number;
  /** Multiply-adds of convs and fc for one image at `input` px. */
  flops: number;
  input: number;
  classes: number;
  stridePlacement: StridePlacement;
  description: string;
}

/**
 * Every named architecture with its cost, counted from the same plan the builder uses. The
 * default stride placement is the paper's (`v1`), so the FLOPs are the paper's Table 1 numbers;
 * torchvision's `v1.5` Bottleneck costs more (ResNet-50: 4.09 G instead of 3.86 G).
 */
export function describeArchs(stridePlacement: StridePlacement = 'v1'): ArchSummary[] {
  return Object.entries(RESNET_ARCHS).map(([arch, spec]) => {
    const cost = countResNet(planResNet(resnetConfig(arch, { stridePlacement })), spec.input);
    return {
      arch,
      params: cost.params,
      flops: cost.flops,
      input: spec.input,
      classes: spec.classes,
      stridePlacement,
      description: spec.description,
    };
  });
}
