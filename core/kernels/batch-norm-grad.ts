import * as tf from '@tensorflow/tfjs';
import { channelAffine } from './channel-affine.js';
import { channelMeans } from './reduce.js';
import { asWasmBackend, dispose, f32View, runWasmKernel, type WasmKernelArgs } from './wasm-backend.js';

/**
 * FusedBatchNorm's gradient on wasm in four XNNPACK passes (dy * x, two per-channel poolings,
 * a per-channel scale of dy). TF.js's generic gradient builds it from ~15
 * elementwise ops, one of them a Tile of 1/sqrt(var) to the full activation size; the wasm Tile
 * alone took 40% of a ResNet-20 training step. With per-channel statistics (mean, variance,
 * scale, offset all [C], x viewed as [rows, C]) and inv = 1/sqrt(var + eps):
 *   dx = dy * scale * inv            dmean = -inv * scale * sum(dy)
 *   dvar = -inv^3/2 * scale * sum(dy * (x - mean))
 *   dscale = inv * sum(dy * (x - mean))   doffset = sum(dy)
 */
export const BATCH_NORM_GRAD = 'ResdetBatchNormGrad';

function batchNormGrad({ inputs, attrs, backend: rawBackend }: WasmKernelArgs): tf.TensorInfo[] {
  const backend = asWasmBackend(rawBackend);
  const { x, mean, variance, scale, dy } = inputs as Record<string, tf.TensorInfo>;
  const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const C = mean.shape[0];
  const rows = tf.util.sizeFromShape(x.shape) / C;
  // Per-channel sums by XNNPACK average pooling; sum(dy * (x - mean)) = sum(dy * x) - mean * sum(dy).
  const dyx = runWasmKernel(backend, 'Multiply', { a: dy, b: x });
  const meanDy = channelMeans(backend, dy);
  const meanDyX = channelMeans(backend, dyx);
  dispose(backend, dyx);
  const m = f32View(backend, mean);
  const v = f32View(backend, variance);
  const s = scale ? f32View(backend, scale).slice() : undefined;
  const inv = new Float32Array(C);
  const mul = new Float32Array(C);
  const sums = [new Float32Array(C), new Float32Array(C), new Float32Array(C), new Float32Array(C)];
  const [dmean, dvar, dscale, doffset] = sums;
  for (let c = 0; c < C; c++) {
    const sc = s ? s[c] : 1;
    inv[c] = 1 / Math.sqrt(v[c] + eps);
    mul[c] = inv[c] * sc;
    const sumDy = meanDy[c] * rows;
    const sumDyXc = (meanDyX[c] - m[c] * meanDy[c]) * rows;
    dmean[c] = -inv[c] * sc * sumDy;
    dvar[c] = -0.5 * inv[c] * inv[c] * inv[c] * sc * sumDyXc;
    dscale[c] = inv[c] * sumDyXc;
    doffset[c] = sumDy;
  }
  const dx = channelAffine(backend, dy, mul, 0);
  const outs = [dx];
  for (const values of sums) {
    const t = backend.makeOutput([C], 'float32');
    f32View(backend, t).set(values);
    outs.push(t);
  }
  return outs;
}

export const batchNormGradConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: batchNormGrad as tf.KernelFunc,
};

/**
 * Wraps TF.js's FusedBatchNorm gradient: on wasm with per-channel statistics it runs the kernel
 * above, otherwise (other backends, other shapes) the original gradient unchanged.
 */
export function fusedBatchNormGradient(original: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const C = x.shape[x.rank - 1];
      const perChannel =
        mean.rank === 1 && mean.shape[0] === C && variance.rank === 1 && variance.shape[0] === C;
      if (tf.getBackend() !== 'wasm' || !perChannel || (scale && scale.rank !== 1)) {
        return original.gradFunc(dy, saved, attrs);
      }
      const inputs: tf.NamedTensorMap = { x, mean, variance, dy: dy as tf.Tensor };
      if (scale) inputs.scale = scale;
      // Computed here, not in the closures: the engine runs each closure in its own tidy, which
      // would dispose the kernel's other outputs before their closures ask for them. The backward
      // pass's enclosing scope disposes the ones nobody uses.
      const [dx, dmean, dvar, dscale, doffset] = tf
        .engine()
        .runKernel(BATCH_NORM_GRAD, inputs, attrs) as tf.Tensor[];
      return {
        x: () => dx,
        mean: () => dmean,
        variance: () => dvar,
        scale: () => dscale,
        offset: () => doffset,
      };
    },
  };
}
