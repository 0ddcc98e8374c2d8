import * as tf from '@tensorflow/tfjs';
import { type BoxesLike, toFlatBoxes } from './boxes.js';
import {
  checkFeatureMap,
  checkRois,
  isSnakeOptions,
  type OutputSize,
  outputHw,
  type RoiOpOptionsSnake,
} from './roi-pool.js';

export interface RoiAlignOptions {
  outputSize: OutputSize;
  spatialScale?: number;
  /** Samples per bin side; <= 0 means adaptive, ceil(roi size / output size). Default -1. */
  samplingRatio?: number;
  /** Shift by half a pixel (Detectron2's ROIAlignV2). Default false, as torchvision. */
  aligned?: boolean;
}

/**
 * Sample points of one RoI as (offset into the map, weight) quadruples, bin by bin. Built once per
 * RoI and used by both the forward and the backward pass, so they agree by construction.
 */
interface RoiSamples {
  /** Per output cell (ph, pw): start/end into `offsets`/`weights`, in units of 4 corners. */
  cellStart: Int32Array;
  offsets: Int32Array;
  weights: Float32Array;
  /** Divisor: grid_h * grid_w (out-of-map samples still count), at least 1. */
  count: number;
}

function roiSamples(
  rois: Float32Array,
  i: number,
  dims: { h: number; w: number; c: number; ph: number; pw: number },
  scale: number,
  samplingRatio: number,
  aligned: boolean,
): RoiSamples {
  const { h, w, c, ph, pw } = dims;
  const b = rois[5 * i];
  const offset = aligned ? 0.5 : 0;
  const fscale = Math.fround(scale);
  const sw = Math.fround(Math.fround(rois[5 * i + 1] * fscale) - offset);
  const sh = Math.fround(Math.fround(rois[5 * i + 2] * fscale) - offset);
  const ew = Math.fround(Math.fround(rois[5 * i + 3] * fscale) - offset);
  const eh = Math.fround(Math.fround(rois[5 * i + 4] * fscale) - offset);
  let roiW = Math.fround(ew - sw);
  let roiH = Math.fround(eh - sh);
  if (!aligned) {
    roiW = Math.max(roiW, 1);
    roiH = Math.max(roiH, 1);
  }
  const binH = Math.fround(roiH / ph);
  const binW = Math.fround(roiW / pw);
  const gridH = samplingRatio > 0 ? samplingRatio : Math.ceil(binH);
  const gridW = samplingRatio > 0 ? samplingRatio : Math.ceil(binW);
  const count = Math.max(gridH * gridW, 1);
  const cellStart = new Int32Array(ph * pw + 1);
  const offsets: number[] = [];
  const weights: number[] = [];
  const base = b * h * w;
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      cellStart[y * pw + x] = offsets.length / 4;
      for (let iy = 0; iy < gridH; iy++) {
        // float32 steps in torchvision's order, so edge tests (y > H, y_low >= H - 1) agree
        const yy = Math.fround(
          Math.fround(sh + Math.fround(y * binH)) + Math.fround(Math.fround((iy + 0.5) * binH) / gridH),
        );
        for (let ix = 0; ix < gridW; ix++) {
          const xx = Math.fround(
            Math.fround(sw + Math.fround(x * binW)) + Math.fround(Math.fround((ix + 0.5) * binW) / gridW),
          );
          // Off the map: contributes 0 but still counts in the average.
          if (yy < -1 || yy > h || xx < -1 || xx > w) continue;
          const sy = yy <= 0 ? 0 : yy;
          let sx = xx <= 0 ? 0 : xx;
          let yLow = Math.floor(sy);
          let xLow = Math.floor(sx);
          let yHigh: number;
          let xHigh: number;
          let py = sy;
          if (yLow >= h - 1) {
            yLow = yHigh = h - 1;
            py = yLow;
          } else yHigh = yLow + 1;
          if (xLow >= w - 1) {
            xLow = xHigh = w - 1;
            sx = xLow;
          } else xHigh = xLow + 1;
          const ly = Math.fround(py - yLow);
          const lx = Math.fround(sx - xLow);
          const hy = Math.fround(1 - ly);
          const hx = Math.fround(1 - lx);
          offsets.push(
            (base + yLow * w + xLow) * c,
            (base + yLow * w + xHigh) * c,
            (base + yHigh * w + xLow) * c,
            (base + yHigh * w + xHigh) * c,
          );
          weights.push(hy * hx, hy * lx, ly * hx, ly * lx);
        }
      }
    }
  }
  cellStart[ph * pw] = offsets.length / 4;
  return { cellStart, offsets: Int32Array.from(offsets), weights: Float32Array.from(weights), count };
}

/**
 * torchvision.ops.roi_align: average of bilinear samples on a regular grid in each bin (see
 * test/fixtures/torchvision/README.md for the exact rules). Matches torchvision within ~1e-6.
 * `roiAlign(input, rois, outputSize, spatialScale, samplingRatio, aligned)` (torchvision's
 * positional order) or `roiAlign(input, rois, {outputSize, spatialScale, samplingRatio, aligned})`
 * (or torchvision's snake_case keywords: a fixture case can be passed as it is).
 */
export function roiAlign(
  input: tf.Tensor4D | tf.Tensor,
  rois: BoxesLike,
  outputSize: OutputSize | RoiAlignOptions | RoiOpOptionsSnake,
  spatialScale = 1,
  samplingRatio = -1,
  aligned = false,
): tf.Tensor4D {
  let opts: Required<RoiAlignOptions>;
  if (isSnakeOptions(outputSize)) {
    opts = {
      outputSize: outputSize.output_size,
      spatialScale: outputSize.spatial_scale ?? 1,
      samplingRatio: outputSize.sampling_ratio ?? -1,
      aligned: outputSize.aligned ?? false,
    };
  } else if (typeof outputSize === 'object' && 'outputSize' in outputSize) {
    opts = {
      outputSize: outputSize.outputSize,
      spatialScale: outputSize.spatialScale ?? 1,
      samplingRatio: outputSize.samplingRatio ?? -1,
      aligned: outputSize.aligned ?? false,
    };
  } else {
    opts = { outputSize: outputSize as OutputSize, spatialScale, samplingRatio, aligned };
  }
  const [ph, pw] = outputHw(opts.outputSize);
  const [n, h, w, c] = checkFeatureMap(input, 'roiAlign');
  const r = toFlatBoxes(rois, 'rois', 5);
  checkRois(r, n, 'roiAlign');
  const k = r.length / 5;
  const dims = { h, w, c, ph, pw };
  const samples: RoiSamples[] = [];
  for (let i = 0; i < k; i++)
    samples.push(roiSamples(r, i, dims, opts.spatialScale, opts.samplingRatio, opts.aligned));
  const cells = ph * pw;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const data = (args[0] as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(k * cells * c);
    for (let i = 0; i < k; i++) {
      const { cellStart, offsets, weights, count } = samples[i];
      const inv = 1 / count;
      for (let cell = 0; cell < cells; cell++) {
        const o = (i * cells + cell) * c;
        for (let s = cellStart[cell]; s < cellStart[cell + 1]; s++) {
          const o1 = offsets[4 * s];
          const o2 = offsets[4 * s + 1];
          const o3 = offsets[4 * s + 2];
          const o4 = offsets[4 * s + 3];
          const w1 = weights[4 * s];
          const w2 = weights[4 * s + 1];
          const w3 = weights[4 * s + 2];
          const w4 = weights[4 * s + 3];
          for (let ch = 0; ch < c; ch++) {
            out[o + ch] += w1 * data[o1 + ch] + w2 * data[o2 + ch] + w3 * data[o3 + ch] + w4 * data[o4 + ch];
          }
        }
        for (let ch = 0; ch < c; ch++) out[o + ch] *= inv;
      }
    }
    return {
      value: tf.tensor4d(out, [k, ph, pw, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const dx = new Float32Array(n * h * w * c);
        for (let i = 0; i < k; i++) {
          const { cellStart, offsets, weights, count } = samples[i];
          const inv = 1 / count;
          for (let cell = 0; cell < cells; cell++) {
            const o = (i * cells + cell) * c;
            for (let s = cellStart[cell]; s < cellStart[cell + 1]; s++) {
              const w1 = weights[4 * s] * inv;
              const w2 = weights[4 * s + 1] * inv;
              const w3 = weights[4 * s + 2] * inv;
              const w4 = weights[4 * s + 3] * inv;
              const o1 = offsets[4 * s];
              const o2 = offsets[4 * s + 1];
              const o3 = offsets[4 * s + 2];
              const o4 = offsets[4 * s + 3];
              for (let ch = 0; ch < c; ch++) {
                const gv = g[o + ch];
                dx[o1 + ch] += w1 * gv;
                dx[o2 + ch] += w2 * gv;
                dx[o3 + ch] += w3 * gv;
                dx[o4 + ch] += w4 * gv;
              }
            }
          }
        }
        return tf.tensor4d(dx, [n, h, w, c]);
      },
    };
  });
  return op(input) as tf.Tensor4D;
}
