import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, f32View, type WasmKernelArgs } from './wasm-backend.js';

/**
 * MaxPoolGrad for wasm. The package's kernel returns wrong gradients when the input is not
 * square (e.g. 9x7 with a 3x3/2 pad 1 window: off by 18% of the largest value), which detector
 * images are. This one routes each dy to the first maximum of its window in row-major scan order,
 * as the cpu backend does, working on all channels of a pixel at once (NHWC rows are contiguous).
 */
function maxPoolGrad({ inputs, attrs, backend: rawBackend }: WasmKernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(rawBackend);
  const dy = inputs.dy as tf.TensorInfo;
  const x = inputs.input as tf.TensorInfo;
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const dxT = backend.makeOutput([...x.shape], 'float32');
  const xv = f32View(backend, x);
  const g = f32View(backend, dy);
  const dx = f32View(backend, dxT);
  dx.fill(0);
  const best = new Float32Array(C);
  const where = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const y0 = Math.max(0, oh * sh - pt);
      const y1 = Math.min(H, oh * sh - pt + fh);
      for (let ow = 0; ow < OW; ow++) {
        const x0 = Math.max(0, ow * sw - pl);
        const x1 = Math.min(W, ow * sw - pl + fw);
        best.fill(Number.NEGATIVE_INFINITY);
        where.fill(-1);
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const base = ((n * H + yy) * W + xx) * C;
            for (let c = 0; c < C; c++) {
              const v = xv[base + c];
              if (v > best[c] || where[c] < 0) {
                best[c] = v;
                where[c] = base + c;
              }
            }
          }
        }
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) if (where[c] >= 0) dx[where[c]] += g[o + c];
      }
    }
  }
  return dxT;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as tf.KernelFunc,
};
