import type * as tf from '@tensorflow/tfjs';
import { convGeometry } from './conv-geometry.js';
import { asWasmBackend, dispose, runWasmKernel } from './wasm-backend.js';

/**
 * The filter gradient as one forward convolution, so XNNPACK's convolution does the work:
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*s + kh - pt, ow*s + kw - pl, ci] * dy[n, oh, ow, co]
 * is a convolution of x' = x with batch and channels swapped ([ci, H, W, n]) by the "filter"
 * dy' = [oh, ow, n, co] dilated by the stride, whose output [ci, kh, kw, co] is dW transposed.
 * The alternative, an im2col matrix times dy on the backend's GEMM, measured 1.5-2x slower: the
 * im2col copy is written by JavaScript and is filterHeight*filterWidth times the size of x.
 */
function conv2dBackpropFilter({
  inputs,
  attrs,
  backend: rawBackend,
}: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: object;
}): tf.TensorInfo {
  const backend = asWasmBackend(rawBackend);
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const g = convGeometry(x.shape, a.filterShape, a.strides, a.pad, a.dimRoundingMode, a.dataFormat);
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

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
};
