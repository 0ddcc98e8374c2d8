import { type ConvParams, convParams } from '../../core/conv-params.js';

/**
 * Every convolution shape the ResNets use, shrunk: 7x7/2 pad 3 (stem), 3x3 stride 1 and 2 pad 1,
 * 1x1 stride 1 and 2 without padding; odd and even input sizes; channel counts that are not
 * multiples of any tile size. Plus a dilated and an asymmetric-padding case for the generator's
 * general path.
 */
export interface ConvCase {
  name: string;
  params: ConvParams;
}

export const RESNET_CASES: ConvCase[] = [
  {
    name: 'stem 7x7/2 p3, 11x11 (odd)',
    params: convParams({
      batch: 2,
      inHeight: 11,
      inWidth: 11,
      inChannels: 3,
      outChannels: 5,
      filter: 7,
      stride: 2,
      pad: 3,
    }),
  },
  {
    name: 'stem 7x7/2 p3, 12x10 (even, non-square)',
    params: convParams({
      batch: 1,
      inHeight: 12,
      inWidth: 10,
      inChannels: 3,
      outChannels: 6,
      filter: 7,
      stride: 2,
      pad: 3,
    }),
  },
  {
    name: '3x3/1 p1, 7x7',
    params: convParams({
      batch: 2,
      inHeight: 7,
      inWidth: 7,
      inChannels: 6,
      outChannels: 5,
      filter: 3,
      stride: 1,
      pad: 1,
    }),
  },
  {
    name: '3x3/1 p1, 6x6, 19->21 channels',
    params: convParams({
      batch: 1,
      inHeight: 6,
      inWidth: 6,
      inChannels: 19,
      outChannels: 21,
      filter: 3,
      stride: 1,
      pad: 1,
    }),
  },
  {
    name: '3x3/2 p1, 7x7 (odd)',
    params: convParams({
      batch: 2,
      inHeight: 7,
      inWidth: 7,
      inChannels: 5,
      outChannels: 6,
      filter: 3,
      stride: 2,
      pad: 1,
    }),
  },
  {
    name: '3x3/2 p1, 8x8 (even)',
    params: convParams({
      batch: 1,
      inHeight: 8,
      inWidth: 8,
      inChannels: 7,
      outChannels: 9,
      filter: 3,
      stride: 2,
      pad: 1,
    }),
  },
  {
    name: '1x1/1, 5x5 (matmul shape)',
    params: convParams({ batch: 2, inHeight: 5, inWidth: 5, inChannels: 7, outChannels: 9, filter: 1 }),
  },
  {
    name: '1x1/1, 4x4, 33->17 channels',
    params: convParams({ batch: 1, inHeight: 4, inWidth: 4, inChannels: 33, outChannels: 17, filter: 1 }),
  },
  {
    name: '1x1/2, 7x7 (odd, projection shortcut)',
    params: convParams({
      batch: 2,
      inHeight: 7,
      inWidth: 7,
      inChannels: 6,
      outChannels: 10,
      filter: 1,
      stride: 2,
    }),
  },
  {
    name: '1x1/2, 8x8 (even)',
    params: convParams({
      batch: 1,
      inHeight: 8,
      inWidth: 8,
      inChannels: 5,
      outChannels: 7,
      filter: 1,
      stride: 2,
    }),
  },
  {
    name: '3x3/1 dilation 2 p2',
    params: convParams({
      batch: 1,
      inHeight: 7,
      inWidth: 6,
      inChannels: 4,
      outChannels: 3,
      filter: 3,
      stride: 1,
      pad: 2,
      dilation: 2,
    }),
  },
  {
    // TF 'same' at stride 2 on an even size pads 0 on top/left and 1 on bottom/right.
    name: "3x3/2 'same' (asymmetric pad), 6x6",
    params: {
      ...convParams({
        batch: 1,
        inHeight: 6,
        inWidth: 6,
        inChannels: 3,
        outChannels: 4,
        filter: 3,
        stride: 2,
        pad: 1,
      }),
      padTop: 0,
      padLeft: 0,
    },
  },
];

export { seededValues as seeded } from '../../core/rng.js';

export function sizes(p: ConvParams): { x: number; dy: number; w: number } {
  return {
    x: p.batch * p.inHeight * p.inWidth * p.inChannels,
    dy: p.batch * p.outHeight * p.outWidth * p.outChannels,
    w: p.filterHeight * p.filterWidth * p.inChannels * p.outChannels,
  };
}
