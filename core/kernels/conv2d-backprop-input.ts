import type * as tf from '@tensorflow/tfjs';
import { type ConvGeometry, convGeometry } from './conv-geometry.js';
import {
  asWasmBackend,
  dispose,
  f32View,
  runWasmKernel,
  type WasmBackendLike,
  type WasmKernelArgs,
} from './wasm-backend.js';

/**
 * The input gradient as forward convolutions on XNNPACK. tfjs-backend-wasm's own
 * Conv2DBackpropInput is a scalar loop, ~20x slower than the forward convolution it differentiates.
 *
 * In one dimension, dx[y] = sum over kh of w[kh] * dy[oh] where oh*s + kh = y + pt. Split the input
 * positions by phase r = (y + pt) mod s: with q = (y + pt - r) / s, the taps that reach y are
 * kh = r + s*j and dx[y] = sum_j w[r + s*j] * dy[q - j], a stride-1 convolution of dy with the
 * phase's sub-filter flipped. So s*s small convolutions (one for stride 1) produce every input
 * position exactly once, with the forward pass's arithmetic cost and no zero-stuffed dy.
 */

interface Phase {
  /** Taps in this phase's sub-filter: kh = r + s*j for j < taps. */
  taps: number;
  /** First and count of q (input position y = q*s + r - pad). */
  qLo: number;
  count: number;
  /** Padding of dy for the stride-1 convolution; negative means crop. */
  padBefore: number;
  padAfter: number;
}

function phase1d(r: number, k: number, s: number, pad: number, inSize: number, outSize: number): Phase {
  const taps = r < k ? Math.ceil((k - r) / s) : 0;
  const qLo = Math.ceil((pad - r) / s);
  const qHi = Math.floor((inSize - 1 + pad - r) / s);
  const count = Math.max(0, qHi - qLo + 1);
  const padBefore = taps - 1 - qLo;
  const padAfter = count - outSize - padBefore + taps - 1;
  return { taps, qLo, count, padBefore, padAfter };
}

/** Sub-filter [taps_h, taps_w, co, ci] of phase (ry, rx): flipped, in/out channels swapped. */
function subFilter(
  backend: WasmBackendLike,
  filter: tf.TensorInfo,
  g: ConvGeometry,
  ry: number,
  rx: number,
  ph: Phase,
  pw: Phase,
): tf.TensorInfo {
  const { inChannels: ci, outChannels: co, filterWidth: kw, strideHeight: sh, strideWidth: sw } = g;
  const out = backend.makeOutput([ph.taps, pw.taps, co, ci], 'float32');
  const w = f32View(backend, filter);
  const o = f32View(backend, out);
  let idx = 0;
  for (let jh = 0; jh < ph.taps; jh++) {
    const kh = ry + sh * (ph.taps - 1 - jh);
    for (let jw = 0; jw < pw.taps; jw++) {
      const kwi = rx + sw * (pw.taps - 1 - jw);
      const base = (kh * kw + kwi) * ci * co;
      for (let c = 0; c < co; c++) {
        for (let i = 0; i < ci; i++) o[idx++] = w[base + i * co + c];
      }
    }
  }
  return out;
}

/** dy cropped where a phase needs negative padding (rows it never reads). */
function cropDy(backend: WasmBackendLike, dy: tf.TensorInfo, ph: Phase, pw: Phase): tf.TensorInfo {
  const [n, oh, ow, c] = dy.shape;
  const top = Math.max(0, -ph.padBefore);
  const left = Math.max(0, -pw.padBefore);
  const bottom = Math.max(0, -ph.padAfter);
  const right = Math.max(0, -pw.padAfter);
  if (top + left + bottom + right === 0) return dy;
  return runWasmKernel(
    backend,
    'Slice',
    { x: dy },
    {
      begin: [0, top, left, 0],
      size: [n, oh - top - bottom, ow - left - right, c],
    },
  );
}

function phaseConv(
  backend: WasmBackendLike,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
  ry: number,
  rx: number,
  ph: Phase,
  pw: Phase,
): tf.TensorInfo {
  const sub = subFilter(backend, filter, g, ry, rx, ph, pw);
  const dyc = cropDy(backend, dy, ph, pw);
  const out = runWasmKernel(
    backend,
    'Conv2D',
    { x: dyc, filter: sub },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [Math.max(0, ph.padBefore), Math.max(0, ph.padAfter)],
        [Math.max(0, pw.padBefore), Math.max(0, pw.padAfter)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    },
  );
  if (dyc !== dy) dispose(backend, dyc);
  dispose(backend, sub);
  return out;
}

function conv2dBackpropInput({ inputs, attrs, backend: rawBackend }: WasmKernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(rawBackend);
  const dy = inputs.dy as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const g = convGeometry(a.inputShape, filter.shape, a.strides, a.pad, a.dimRoundingMode, a.dataFormat);
  const { strideHeight: sh, strideWidth: sw } = g;
  const phasesH = Array.from({ length: sh }, (_, r) =>
    phase1d(r, g.filterHeight, sh, g.padTop, g.inHeight, g.outHeight),
  );
  const phasesW = Array.from({ length: sw }, (_, r) =>
    phase1d(r, g.filterWidth, sw, g.padLeft, g.inWidth, g.outWidth),
  );
  if (sh === 1 && sw === 1) return phaseConv(backend, dy, filter, g, 0, 0, phasesH[0], phasesW[0]);

  const dx = backend.makeOutput([g.batch, g.inHeight, g.inWidth, g.inChannels], 'float32');
  for (let ry = 0; ry < sh; ry++) {
    for (let rx = 0; rx < sw; rx++) {
      const ph = phasesH[ry];
      const pw = phasesW[rx];
      if (ph.count === 0 || pw.count === 0) continue;
      const part = ph.taps > 0 && pw.taps > 0 ? phaseConv(backend, dy, filter, g, ry, rx, ph, pw) : undefined;
      scatterPhase(backend, dx, part, g, ry, rx, ph, pw);
      if (part) dispose(backend, part);
    }
  }
  return dx;
}

/** Writes one phase's result (or zeros, for a phase no filter tap reaches) into dx. */
function scatterPhase(
  backend: WasmBackendLike,
  dx: tf.TensorInfo,
  part: tf.TensorInfo | undefined,
  g: ConvGeometry,
  ry: number,
  rx: number,
  ph: Phase,
  pw: Phase,
): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, strideHeight: sh, strideWidth: sw } = g;
  const out = f32View(backend, dx);
  const src = part ? f32View(backend, part) : undefined;
  let s = 0;
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < ph.count; i++) {
      const y = (ph.qLo + i) * sh + ry - g.padTop;
      let d = ((n * H + y) * W + (pw.qLo * sw + rx - g.padLeft)) * C;
      const step = (sw - 1) * C;
      for (let j = 0; j < pw.count; j++, d += step) {
        if (src) for (let c = 0; c < C; c++) out[d++] = src[s++];
        else for (let c = 0; c < C; c++) out[d++] = 0;
      }
    }
  }
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as tf.KernelFunc,
};
