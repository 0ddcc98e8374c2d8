/**
 * RoIAlign's arithmetic (torchvision.ops.roi_align on NHWC maps) over plain typed arrays: the cpu
 * and wasm kernels run it on their tensors' storage. Every step is rounded to float32 in
 * torchvision's order, so edge tests (y > H, y_low >= H - 1) agree with it exactly.
 */

/** Feature map [N, H, W, C]. */
export interface MapShape {
  n: number;
  h: number;
  w: number;
  c: number;
}

export interface RoiAlignParams {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
  /** Samples per bin side; <= 0 means adaptive, ceil(bin size). */
  samplingRatio: number;
  /** Shift by half a pixel (Detectron2's ROIAlignV2). */
  aligned: boolean;
}

/**
 * Sample points of one RoI as (offset into the map, weight) quadruples, bin by bin: built once
 * per RoI and used by both passes, so they agree by construction.
 */
interface RoiSamples {
  /** Per output cell (ph, pw): start/end into `offsets`/`weights`, in units of 4 corners. */
  cellStart: Int32Array;
  offsets: Int32Array;
  weights: Float32Array;
  /** Divisor: grid_h * grid_w (out-of-map samples still count), at least 1. */
  count: number;
}

function roiSamples(rois: Float32Array, i: number, map: MapShape, p: RoiAlignParams): RoiSamples {
  const { h, w, c } = map;
  const ph = p.pooledHeight;
  const pw = p.pooledWidth;
  const b = rois[5 * i];
  const offset = p.aligned ? 0.5 : 0;
  const fscale = Math.fround(p.spatialScale);
  const sw = Math.fround(Math.fround(rois[5 * i + 1] * fscale) - offset);
  const sh = Math.fround(Math.fround(rois[5 * i + 2] * fscale) - offset);
  const ew = Math.fround(Math.fround(rois[5 * i + 3] * fscale) - offset);
  const eh = Math.fround(Math.fround(rois[5 * i + 4] * fscale) - offset);
  let roiW = Math.fround(ew - sw);
  let roiH = Math.fround(eh - sh);
  if (!p.aligned) {
    roiW = Math.max(roiW, 1);
    roiH = Math.max(roiH, 1);
  }
  const binH = Math.fround(roiH / ph);
  const binW = Math.fround(roiW / pw);
  const gridH = p.samplingRatio > 0 ? p.samplingRatio : Math.ceil(binH);
  const gridW = p.samplingRatio > 0 ? p.samplingRatio : Math.ceil(binW);
  const count = Math.max(gridH * gridW, 1);
  const cellStart = new Int32Array(ph * pw + 1);
  const offsets: number[] = [];
  const weights: number[] = [];
  const base = b * h * w;
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      cellStart[y * pw + x] = offsets.length / 4;
      for (let iy = 0; iy < gridH; iy++) {
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

/** Forward: `out` [R, PH, PW, C] (zeroed by the caller) from the map `data`. */
export function roiAlignForward(
  data: Float32Array,
  rois: Float32Array,
  map: MapShape,
  p: RoiAlignParams,
  out: Float32Array,
): void {
  const { c } = map;
  const cells = p.pooledHeight * p.pooledWidth;
  for (let i = 0; i < rois.length / 5; i++) {
    const { cellStart, offsets, weights, count } = roiSamples(rois, i, map, p);
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
}

/** Backward: accumulates the map's gradient into `dx` [N, H, W, C] (zeroed by the caller). */
export function roiAlignBackward(
  dy: Float32Array,
  rois: Float32Array,
  map: MapShape,
  p: RoiAlignParams,
  dx: Float32Array,
): void {
  const { c } = map;
  const cells = p.pooledHeight * p.pooledWidth;
  for (let i = 0; i < rois.length / 5; i++) {
    const { cellStart, offsets, weights, count } = roiSamples(rois, i, map, p);
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
          const gv = dy[o + ch];
          dx[o1 + ch] += w1 * gv;
          dx[o2 + ch] += w2 * gv;
          dx[o3 + ch] += w3 * gv;
          dx[o4 + ch] += w4 * gv;
        }
      }
    }
  }
}
