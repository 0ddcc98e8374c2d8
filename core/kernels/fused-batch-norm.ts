import type * as tf from '@tensorflow/tfjs';
import { channelAffine } from './channel-affine.js';
import { asWasmBackend, f32View } from './wasm-backend.js';

/**
 * FusedBatchNorm forward on wasm as y = x * a + b with per-channel a = scale / sqrt(var + eps),
 * b = offset - mean * a, one XNNPACK pass (channelAffine) instead of the package's scalar C++ loop
 * (~9x faster on a 64x28x28x16 activation). Other shapes (statistics not per-channel) go to
 * the package's kernel.
 */
export function fusedBatchNormKernel(original: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'FusedBatchNorm',
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: (args) => {
      const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const xi = x as tf.TensorInfo;
      const C = xi.shape[xi.shape.length - 1];
      const perChannel = [mean, variance, offset, scale].every(
        (t) => !t || (t.shape.length === 1 && t.shape[0] === C),
      );
      if (!perChannel || xi.dtype !== 'float32' || !mean || !variance) return original.kernelFunc(args);
      const backend = asWasmBackend(args.backend);
      const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
      const a = new Float32Array(C);
      const b = new Float32Array(C);
      const m = f32View(backend, mean);
      const v = f32View(backend, variance);
      const s = scale ? f32View(backend, scale) : undefined;
      const o = offset ? f32View(backend, offset) : undefined;
      for (let c = 0; c < C; c++) {
        a[c] = (s ? s[c] : 1) / Math.sqrt(v[c] + eps);
        b[c] = (o ? o[c] : 0) - m[c] * a[c];
      }
      return channelAffine(backend, xi, a, b);
    },
  };
}
