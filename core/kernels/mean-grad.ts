import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, f32View, type WasmKernelArgs } from './wasm-backend.js';

/**
 * The gradient of Mean (and Sum) over a contiguous block of axes on wasm: dx is dy * (1/n)
 * repeated along the reduced axes. TF.js builds it as Fill(ones) x broadcast Multiply / RealDiv,
 * three full-size passes; here each output block is written once per row and then filled by
 * doubling memmoves (copyWithin), ~log2(rows) calls. tf.moments and the global average pool
 * reduce contiguous axes ([0, 1, 2] and [1, 2] of NHWC), which is what this covers; anything else
 * keeps TF.js's gradient.
 */
export const BROADCAST_REDUCED = 'ResdetBroadcastReduced';

interface Split {
  outer: number;
  reduced: number;
  inner: number;
}

/** x's shape as [outer, reduced, inner] when `axes` are one contiguous block, else undefined. */
export function splitAxes(shape: readonly number[], axes: number[]): Split | undefined {
  const sorted = [...axes].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1] + 1) return undefined;
  const lo = sorted[0];
  const hi = sorted[sorted.length - 1];
  const prod = (a: number, b: number) => shape.slice(a, b).reduce((p, d) => p * d, 1);
  return { outer: prod(0, lo), reduced: prod(lo, hi + 1), inner: prod(hi + 1, shape.length) };
}

function broadcastReduced({ inputs, attrs, backend: rawBackend }: WasmKernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(rawBackend);
  const dy = inputs.dy as tf.TensorInfo;
  const { shape, outer, reduced, inner, scale } = attrs as {
    shape: number[];
    outer: number;
    reduced: number;
    inner: number;
    scale: number;
  };
  const out = backend.makeOutput([...shape], 'float32');
  const g = f32View(backend, dy);
  const o = f32View(backend, out);
  const block = reduced * inner;
  for (let p = 0; p < outer; p++) {
    const start = p * block;
    for (let q = 0; q < inner; q++) o[start + q] = g[p * inner + q] * scale;
    for (let filled = inner; filled < block; filled *= 2) {
      o.copyWithin(start + filled, start, start + Math.min(filled, block - filled));
    }
  }
  return out;
}

export const broadcastReducedConfig: tf.KernelConfig = {
  kernelName: BROADCAST_REDUCED,
  backendName: 'wasm',
  kernelFunc: broadcastReduced as tf.KernelFunc,
};

/** Mean's or Sum's gradient: the kernel above on wasm for float32 and contiguous axes, else `original`. */
export function reductionGradient(original: tf.GradConfig, mean: boolean): tf.GradConfig {
  return {
    kernelName: original.kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const split = axes.length > 0 ? splitAxes(x.shape, axes) : undefined;
      if (
        tf.getBackend() !== 'wasm' ||
        !split ||
        x.dtype !== 'float32' ||
        (dy as tf.Tensor).dtype !== 'float32'
      ) {
        return original.gradFunc(dy, saved, attrs);
      }
      const scale = mean ? 1 / split.reduced : 1;
      return {
        x: () =>
          tf.engine().runKernel(BROADCAST_REDUCED, { dy: dy as tf.Tensor }, {
            shape: [...x.shape],
            ...split,
            scale,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    },
  };
}
