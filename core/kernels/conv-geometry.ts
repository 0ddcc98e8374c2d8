import * as tf from '@tensorflow/tfjs';
import { type ConvParams, convParamsFromInfo } from '../conv-params.js';

/** The sizes a 2-D convolution's gradient kernels need (NHWC, HWIO filters, no dilation). */
export type ConvGeometry = ConvParams;

type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export function convGeometry(
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: PadAttr,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  dataFormat: string | undefined,
): ConvGeometry {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`resdet wasm conv gradients support NHWC only, got dataFormat ${dataFormat}`);
  }
  // Dilation 1: the gradient kernels index without it (resdet's nets never dilate).
  return convParamsFromInfo(
    tf.backend_util.computeConv2DInfo(
      inShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    ),
  );
}
