import { type ConvParams, convParams } from '../../core/conv-params.js';

/**
 * Every distinct convolution of torchvision's ResNet-50 (v1.5: stride on the 3x3), at `input`
 * px and `batch` images: the shapes the kernel checks and per-layer timings run.
 */
export interface NamedConv {
  name: string;
  params: ConvParams;
}

export function resnet50Convs(batch: number, input = 224): NamedConv[] {
  const s1 = Math.floor((input + 2 * 3 - 7) / 2) + 1; // stem output
  const s2 = Math.floor((s1 + 2 - 3) / 2) + 1; // after the 3x3/2 max-pool: layer1
  const s3 = Math.floor((s2 - 1) / 2) + 1;
  const s4 = Math.floor((s3 - 1) / 2) + 1;
  const s5 = Math.floor((s4 - 1) / 2) + 1;
  const conv = (name: string, size: number, inC: number, outC: number, filter: number, stride = 1) => ({
    name,
    params: convParams({
      batch,
      inHeight: size,
      inWidth: size,
      inChannels: inC,
      outChannels: outC,
      filter,
      stride,
      pad: filter === 7 ? 3 : filter === 3 ? 1 : 0,
    }),
  });
  return [
    conv('stem 7x7/2 3->64', input, 3, 64, 7, 2),
    conv('layer1 1x1 64->64', s2, 64, 64, 1),
    conv('layer1 3x3 64', s2, 64, 64, 3),
    conv('layer1 1x1 64->256', s2, 64, 256, 1),
    conv('layer1 1x1 256->64', s2, 256, 64, 1),
    conv('layer2 1x1 256->128', s2, 256, 128, 1),
    conv('layer2 3x3/2 128', s2, 128, 128, 3, 2),
    conv('layer2 1x1 128->512', s3, 128, 512, 1),
    conv('layer2 downsample 1x1/2 256->512', s2, 256, 512, 1, 2),
    conv('layer2 1x1 512->128', s3, 512, 128, 1),
    conv('layer2 3x3 128', s3, 128, 128, 3),
    conv('layer3 1x1 512->256', s3, 512, 256, 1),
    conv('layer3 3x3/2 256', s3, 256, 256, 3, 2),
    conv('layer3 1x1 256->1024', s4, 256, 1024, 1),
    conv('layer3 downsample 1x1/2 512->1024', s3, 512, 1024, 1, 2),
    conv('layer3 1x1 1024->256', s4, 1024, 256, 1),
    conv('layer3 3x3 256', s4, 256, 256, 3),
    conv('layer4 1x1 1024->512', s4, 1024, 512, 1),
    conv('layer4 3x3/2 512', s4, 512, 512, 3, 2),
    conv('layer4 1x1 512->2048', s5, 512, 2048, 1),
    conv('layer4 downsample 1x1/2 1024->2048', s4, 1024, 2048, 1, 2),
    conv('layer4 1x1 2048->512', s5, 2048, 512, 1),
    conv('layer4 3x3 512', s5, 512, 512, 3),
  ];
}
