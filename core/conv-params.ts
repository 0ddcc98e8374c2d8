import type * as tf from '@tensorflow/tfjs';

/**
 * The geometry of one 2-D convolution (NHWC input, HWIO filter), as its gradient kernels see it.
 * Bottom and right padding are implied by the output size; only the top-left offsets enter the
 * index math.
 */
export interface ConvParams {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  dilationHeight: number;
  dilationWidth: number;
}

/** The fields of tfjs's backend_util.Conv2DInfo that ConvParams needs. */
export type Conv2DInfoLike = Pick<
  tf.backend_util.Conv2DInfo,
  | 'batchSize'
  | 'inHeight'
  | 'inWidth'
  | 'inChannels'
  | 'outHeight'
  | 'outWidth'
  | 'outChannels'
  | 'filterHeight'
  | 'filterWidth'
  | 'strideHeight'
  | 'strideWidth'
  | 'dilationHeight'
  | 'dilationWidth'
> & { padInfo: { top: number; left: number } };

export function convParamsFromInfo(info: Conv2DInfoLike): ConvParams {
  return checkConvParams({
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
  });
}

export interface ConvSpec {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outChannels: number;
  filter: number | [number, number];
  stride?: number | [number, number];
  /** Symmetric (torch-style) padding; the output size follows from it. */
  pad?: number | [number, number];
  dilation?: number | [number, number];
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

/** ConvParams of a torch-style convolution (symmetric padding, floor rounding). */
export function convParams(spec: ConvSpec): ConvParams {
  const [fh, fw] = pair(spec.filter, 1);
  const [sh, sw] = pair(spec.stride, 1);
  const [ph, pw] = pair(spec.pad, 0);
  const [dh, dw] = pair(spec.dilation, 1);
  const outHeight = Math.floor((spec.inHeight + 2 * ph - dh * (fh - 1) - 1) / sh) + 1;
  const outWidth = Math.floor((spec.inWidth + 2 * pw - dw * (fw - 1) - 1) / sw) + 1;
  return checkConvParams({
    batch: spec.batch,
    inHeight: spec.inHeight,
    inWidth: spec.inWidth,
    inChannels: spec.inChannels,
    outHeight,
    outWidth,
    outChannels: spec.outChannels,
    filterHeight: fh,
    filterWidth: fw,
    strideHeight: sh,
    strideWidth: sw,
    padTop: ph,
    padLeft: pw,
    dilationHeight: dh,
    dilationWidth: dw,
  });
}

export function checkConvParams(p: ConvParams): ConvParams {
  for (const [key, value] of Object.entries(p)) {
    const min = key === 'padTop' || key === 'padLeft' ? 0 : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`conv params: ${key} must be an integer >= ${min}, got ${value}`);
    }
  }
  const elements = [
    p.batch * p.inHeight * p.inWidth * p.inChannels,
    p.batch * p.outHeight * p.outWidth * p.outChannels,
    p.filterHeight * p.filterWidth * p.inChannels * p.outChannels,
  ];
  if (elements.some((n) => n >= 2 ** 31)) {
    throw new Error('conv params: a tensor has 2^31 elements or more, beyond i32 indexing');
  }
  return p;
}

/** A stable text key of every field: generated shaders differ exactly when keys differ. */
export function convKey(p: ConvParams): string {
  return [
    p.batch,
    p.inHeight,
    p.inWidth,
    p.inChannels,
    p.outHeight,
    p.outWidth,
    p.outChannels,
    p.filterHeight,
    p.filterWidth,
    p.strideHeight,
    p.strideWidth,
    p.padTop,
    p.padLeft,
    p.dilationHeight,
    p.dilationWidth,
  ].join('_');
}

/** 1x1, stride 1, no padding: the convolution is a plain matrix product over pixels. */
export function isPointwise(p: ConvParams): boolean {
  return (
    p.filterHeight === 1 &&
    p.filterWidth === 1 &&
    p.strideHeight === 1 &&
    p.strideWidth === 1 &&
    p.padTop === 0 &&
    p.padLeft === 0 &&
    p.outHeight === p.inHeight &&
    p.outWidth === p.inWidth
  );
}
