import type { ConvParams } from '../conv-params.js';

/**
 * Convolution gradients by direct nested loops over the definition
 *   y[n, oh, ow, co] = sum over kh, kw, ci of x[n, oh*s - p + kh*d, ow*s - p + kw*d, ci] * W[kh, kw, ci, co]
 * in float64: the reference the kernels' index math is checked against. Written straight from
 * the formula, sharing nothing with the kernels' expression trees.
 */

function forEachTap(p: ConvParams, visit: (xAt: number, yAt: number, wAt: number) => void): void {
  for (let n = 0; n < p.batch; n++) {
    for (let oh = 0; oh < p.outHeight; oh++) {
      for (let ow = 0; ow < p.outWidth; ow++) {
        for (let kh = 0; kh < p.filterHeight; kh++) {
          const ih = oh * p.strideHeight - p.padTop + kh * p.dilationHeight;
          if (ih < 0 || ih >= p.inHeight) continue;
          for (let kw = 0; kw < p.filterWidth; kw++) {
            const iw = ow * p.strideWidth - p.padLeft + kw * p.dilationWidth;
            if (iw < 0 || iw >= p.inWidth) continue;
            for (let ci = 0; ci < p.inChannels; ci++) {
              const xAt = ((n * p.inHeight + ih) * p.inWidth + iw) * p.inChannels + ci;
              const wBase = ((kh * p.filterWidth + kw) * p.inChannels + ci) * p.outChannels;
              const yBase = ((n * p.outHeight + oh) * p.outWidth + ow) * p.outChannels;
              for (let co = 0; co < p.outChannels; co++) visit(xAt, yBase + co, wBase + co);
            }
          }
        }
      }
    }
  }
}

/** dW [KH, KW, CI, CO] from x [N, H, W, CI] and dy [N, OH, OW, CO]. */
export function referenceFilterGrad(p: ConvParams, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(p.filterHeight * p.filterWidth * p.inChannels * p.outChannels);
  forEachTap(p, (xAt, yAt, wAt) => {
    dw[wAt] += x[xAt] * dy[yAt];
  });
  return dw;
}

/** dx [N, H, W, CI] from dy [N, OH, OW, CO] and W [KH, KW, CI, CO]. */
export function referenceInputGrad(p: ConvParams, dy: Float32Array, w: Float32Array): Float64Array {
  const dx = new Float64Array(p.batch * p.inHeight * p.inWidth * p.inChannels);
  forEachTap(p, (xAt, yAt, wAt) => {
    dx[xAt] += dy[yAt] * w[wAt];
  });
  return dx;
}

/** Forward convolution y [N, OH, OW, CO], for the GPU checks' end-to-end comparisons. */
export function referenceConv(p: ConvParams, x: Float32Array, w: Float32Array): Float64Array {
  const y = new Float64Array(p.batch * p.outHeight * p.outWidth * p.outChannels);
  forEachTap(p, (xAt, yAt, wAt) => {
    y[yAt] += x[xAt] * w[wAt];
  });
  return y;
}

/**
 * max |a - b| / max |b|: the error relative to the gradient's scale. float32 accumulation stays
 * far below 1e-5 on these sizes; a wrong index gives errors of order 1.
 */
export function maxNormalizedError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`compare: lengths ${a.length} and ${b.length} differ`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    const err = Math.abs(a[i] - b[i]);
    if (!(err <= worst)) worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
  }
  return worst / Math.max(scale, 1e-30);
}
