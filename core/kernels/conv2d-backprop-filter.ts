import type * as tf from '@tensorflow/tfjs';
import { type ConvGeometry, convGeometry } from './conv-geometry.js';
import {
  asWasmBackend,
  dispose,
  f32View,
  runWasmKernel,
  type WasmBackendLike,
  withShape,
  type WasmKernelArgs,
} from './wasm-backend.js';

/**
 * Conv2DBackpropFilter for wasm, two ways (see filterGradMethod for which runs when).
 *
 * Batch swap: the filter gradient as one forward convolution, so XNNPACK's convolution does the work:
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*s + kh - pt, ow*s + kw - pl, ci] * dy[n, oh, ow, co]
 * is a convolution of x' = x with batch and channels swapped ([ci, H, W, n]) by the "filter"
 * dy' = [oh, ow, n, co] dilated by the stride, whose output [ci, kh, kw, co] is dW transposed.
 * The alternative, an im2col matrix times dy on the backend's GEMM, measured 1.5-2x slower: the
 * im2col copy is written by JavaScript and is filterHeight*filterWidth times the size of x.
 */
function viaBatchSwap(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  // Input rows/columns past the last one the forward convolution read are cropped (they would
  // need negative padding); the others are padded as the forward pass padded them.
  const padBottom = g.filterHeight + (g.outHeight - 1) * g.strideHeight - g.inHeight - g.padTop;
  const padRight = g.filterWidth + (g.outWidth - 1) * g.strideWidth - g.inWidth - g.padLeft;
  let xs = x;
  if (padBottom < 0 || padRight < 0) {
    xs = runWasmKernel(
      backend,
      'Slice',
      { x },
      {
        begin: [0, 0, 0, 0],
        size: [g.batch, g.inHeight + Math.min(0, padBottom), g.inWidth + Math.min(0, padRight), g.inChannels],
      },
    );
  }
  const xt = runWasmKernel(backend, 'Transpose', { x: xs }, { perm: [3, 1, 2, 0] });
  if (xs !== x) dispose(backend, xs);
  const dyt = runWasmKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const dwt = runWasmKernel(
    backend,
    'Conv2D',
    { x: xt, filter: dyt },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [g.padTop, Math.max(0, padBottom)],
        [g.padLeft, Math.max(0, padRight)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [g.strideHeight, g.strideWidth],
    },
  );
  dispose(backend, xt, dyt);
  const dw = runWasmKernel(backend, 'Transpose', { x: dwt }, { perm: [1, 2, 0, 3] });
  dispose(backend, dwt);
  return dw;
}

/**
 * The filter gradient tap by tap: dW[kh, kw] = xs(kh, kw)^T dy, where xs(kh, kw) [ci, P] is x
 * shifted (and strided) to where that tap reads it, P = n * oh * ow. Each is one GEMM on the
 * backend's XNNPACK fully-connected path; dy is the GEMM's packed operand, and XNNPACK caches the
 * packing by tensor id, so it is packed once for all taps. x is transposed once to [ci, n, H, W]
 * and padded; each tap's view is a (strided) slice of that.
 */
function viaTapGemms(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const { batch: N, inChannels: ci, outChannels: co, outHeight: OH, outWidth: OW } = g;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = g;
  const P = N * OH * OW;
  const xt = runWasmKernel(backend, 'Transpose', { x }, { perm: [3, 0, 1, 2] });
  const padBottom = Math.max(0, kh - 1 + sh * (OH - 1) - (g.inHeight + g.padTop) + 1);
  const padRight = Math.max(0, kw - 1 + sw * (OW - 1) - (g.inWidth + g.padLeft) + 1);
  let xp = xt;
  if (g.padTop + g.padLeft + padBottom + padRight > 0) {
    xp = runWasmKernel(
      backend,
      'PadV2',
      { x: xt },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [g.padTop, padBottom],
          [g.padLeft, padRight],
        ],
        constantValue: 0,
      },
    );
    dispose(backend, xt);
  }
  const dyv = withShape(dy, [1, P, co]);
  const dw = backend.makeOutput([kh, kw, ci, co], 'float32');
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const whole = sh === 1 && sw === 1 && xp.shape[2] === OH && xp.shape[3] === OW;
      const tap = whole
        ? xp
        : sh === 1 && sw === 1
          ? runWasmKernel(backend, 'Slice', { x: xp }, { begin: [0, 0, i, j], size: [ci, N, OH, OW] })
          : runWasmKernel(
              backend,
              'StridedSlice',
              { x: xp },
              {
                begin: [0, 0, i, j],
                end: [ci, N, i + sh * (OH - 1) + 1, j + sw * (OW - 1) + 1],
                strides: [1, 1, sh, sw],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            );
      const part = runWasmKernel(
        backend,
        'BatchMatMul',
        { a: withShape(tap, [1, ci, P]), b: dyv },
        {
          transposeA: false,
          transposeB: false,
        },
      );
      f32View(backend, dw).set(f32View(backend, part), (i * kw + j) * ci * co);
      dispose(backend, part);
      if (tap !== xp) dispose(backend, tap);
    }
  }
  dispose(backend, xp);
  return dw;
}

/**
 * Which formulation is faster, measured here: the batch-swap convolution reduces over the batch
 * as its channel dimension, so it needs a large batch (3x3/1 at batch 32: 32 ms vs 50 ms for the
 * tap GEMMs; equal at 8-16); the tap GEMMs win for 1x1/1 at any batch (2.1 ms vs 19.6 ms at
 * 64x28x28x16 -> 32, 21 vs 47 ms at 64x14x14x64 -> 256) and lose for strides > 1, where the
 * package's StridedSlice is slow. RESDET_WASM_FILTER_GRAD=taps|batch-swap forces one (benchmarks).
 */
export function filterGradMethod(g: ConvGeometry): 'taps' | 'batch-swap' {
  const forced = process.env.RESDET_WASM_FILTER_GRAD;
  if (forced === 'taps' || forced === 'batch-swap') return forced;
  if (g.strideHeight !== 1 || g.strideWidth !== 1) return 'batch-swap';
  return (g.filterHeight === 1 && g.filterWidth === 1) || g.batch < 16 ? 'taps' : 'batch-swap';
}

function conv2dBackpropFilter({ inputs, attrs, backend: rawBackend }: WasmKernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(rawBackend);
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const g = convGeometry(x.shape, a.filterShape, a.strides, a.pad, a.dimRoundingMode, a.dataFormat);
  return filterGradMethod(g) === 'batch-swap'
    ? viaBatchSwap(backend, x, dy, g)
    : viaTapGemms(backend, x, dy, g);
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
};
