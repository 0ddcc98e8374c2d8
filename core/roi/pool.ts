import type { MapShape } from './align.js';

/**
 * RoIPool's arithmetic (torchvision.ops.roi_pool on NHWC maps) over plain typed arrays: the cpu
 * and wasm kernels run it on their tensors' storage. Bit-exact with torchvision.
 */

export interface RoiPoolParams {
  pooledHeight: number;
  pooledWidth: number;
  spatialScale: number;
}

/** C's round(): half away from zero (Math.round sends -0.5 to -0 and -1.5 to -1). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Forward: `out` [R, PH, PW, C] (zeroed) gets each bin's maximum, `argmax` (filled with -1) the
 * flat map index it came from; empty bins keep 0 and -1.
 */
export function roiPoolForward(
  data: Float32Array,
  rois: Float32Array,
  map: MapShape,
  p: RoiPoolParams,
  out: Float32Array,
  argmax: Int32Array,
): void {
  const { h, w, c } = map;
  const ph = p.pooledHeight;
  const pw = p.pooledWidth;
  const fscale = Math.fround(p.spatialScale);
  for (let i = 0; i < rois.length / 5; i++) {
    const b = rois[5 * i];
    const sw = roundHalfAway(Math.fround(rois[5 * i + 1] * fscale));
    const sh = roundHalfAway(Math.fround(rois[5 * i + 2] * fscale));
    const ew = roundHalfAway(Math.fround(rois[5 * i + 3] * fscale));
    const eh = roundHalfAway(Math.fround(rois[5 * i + 4] * fscale));
    const roiW = Math.max(ew - sw + 1, 1);
    const roiH = Math.max(eh - sh + 1, 1);
    const binH = Math.fround(roiH / ph);
    const binW = Math.fround(roiW / pw);
    for (let y = 0; y < ph; y++) {
      const hs = Math.min(Math.max(Math.floor(Math.fround(y * binH)) + sh, 0), h);
      const he = Math.min(Math.max(Math.ceil(Math.fround((y + 1) * binH)) + sh, 0), h);
      for (let x = 0; x < pw; x++) {
        const ws = Math.min(Math.max(Math.floor(Math.fround(x * binW)) + sw, 0), w);
        const we = Math.min(Math.max(Math.ceil(Math.fround((x + 1) * binW)) + sw, 0), w);
        const o = ((i * ph + y) * pw + x) * c;
        if (he <= hs || we <= ws) continue; // empty bin: output 0, no gradient
        out.fill(-Number.MAX_VALUE, o, o + c);
        for (let yy = hs; yy < he; yy++) {
          for (let xx = ws; xx < we; xx++) {
            const base = ((b * h + yy) * w + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = data[base + ch];
              // strictly greater: the first maximum in scan order wins, as torchvision
              if (v > out[o + ch]) {
                out[o + ch] = v;
                argmax[o + ch] = base + ch;
              }
            }
          }
        }
      }
    }
  }
}

/** Backward: each output gradient goes to its bin's argmax in `dx` (zeroed by the caller). */
export function roiPoolBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array): void {
  for (let j = 0; j < dy.length; j++) {
    const src = argmax[j];
    if (src >= 0) dx[src] += dy[j];
  }
}
