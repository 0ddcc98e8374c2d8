/**
 * Pillow's `Image.resize(size, Image.BILINEAR)` on 8-bit RGB, bit for bit (Pillow 9.4's
 * Resample.c): a separable triangle filter whose support widens with the downscale factor (so
 * shrinking averages, unlike a plain bilinear sample), coefficients in 22-bit fixed point, a
 * horizontal pass into an 8-bit image, then a vertical pass. detectron2 resizes its test images
 * this way (ResizeTransform on uint8), so a port that must see the same pixels needs it.
 */

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  /** Per output pixel: first input index and how many follow. */
  starts: Int32Array;
  counts: Int32Array;
  /** ksize fixed-point weights per output pixel. */
  weights: Int32Array;
  ksize: number;
}

function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = triangle((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      // the filter is never negative: round half up, as Pillow's normalize_coeffs_8bpc
      weights[xx * ksize + x] = Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    starts[xx] = xmin;
    counts[xx] = xmax;
  }
  return { starts, counts, weights, ksize };
}

function clip8(acc: number): number {
  const v = Math.floor(acc / (1 << PRECISION_BITS));
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Resizes HWC RGB (3 bytes a pixel) from width x height to outWidth x outHeight. */
export function pilResizeBilinear(
  src: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  let img = src;
  let w = width;
  const half = 1 << (PRECISION_BITS - 1);
  if (outWidth !== width) {
    const c = coefficients(width, outWidth);
    const tmp = new Uint8Array(outWidth * height * 3);
    for (let y = 0; y < height; y++) {
      const row = y * width * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const start = c.starts[xx];
        const n = c.counts[xx];
        const o = xx * c.ksize;
        let s0 = half;
        let s1 = half;
        let s2 = half;
        for (let x = 0; x < n; x++) {
          const wgt = c.weights[o + x];
          const p = row + (start + x) * 3;
          s0 += img[p] * wgt;
          s1 += img[p + 1] * wgt;
          s2 += img[p + 2] * wgt;
        }
        const q = (y * outWidth + xx) * 3;
        tmp[q] = clip8(s0);
        tmp[q + 1] = clip8(s1);
        tmp[q + 2] = clip8(s2);
      }
    }
    img = tmp;
    w = outWidth;
  }
  if (outHeight === height) return img === src ? src.slice() : img;
  const c = coefficients(height, outHeight);
  const out = new Uint8Array(w * outHeight * 3);
  for (let yy = 0; yy < outHeight; yy++) {
    const start = c.starts[yy];
    const n = c.counts[yy];
    const o = yy * c.ksize;
    for (let xx = 0; xx < w; xx++) {
      let s0 = half;
      let s1 = half;
      let s2 = half;
      for (let y = 0; y < n; y++) {
        const wgt = c.weights[o + y];
        const p = ((start + y) * w + xx) * 3;
        s0 += img[p] * wgt;
        s1 += img[p + 1] * wgt;
        s2 += img[p + 2] * wgt;
      }
      const q = (yy * w + xx) * 3;
      out[q] = clip8(s0);
      out[q + 1] = clip8(s1);
      out[q + 2] = clip8(s2);
    }
  }
  return out;
}

/**
 * detectron2's ResizeShortestEdge.get_output_shape: the short side to `shortEdge`, the long side
 * capped at `maxSize`, each side int(x + 0.5). Returns [width, height].
 */
export function shortestEdgeSize(
  width: number,
  height: number,
  shortEdge: number,
  maxSize: number,
): [number, number] {
  const scale = shortEdge / Math.min(height, width);
  let newH = height < width ? shortEdge : scale * height;
  let newW = height < width ? scale * width : shortEdge;
  if (Math.max(newH, newW) > maxSize) {
    const s = maxSize / Math.max(newH, newW);
    newH *= s;
    newW *= s;
  }
  return [Math.trunc(newW + 0.5), Math.trunc(newH + 0.5)];
}
