/**
 * Pillow's `Image.resize(size, Image.BILINEAR)` on 8-bit RGB, bit for bit (Pillow 9.4's
 * Resample.c): a separable triangle filter whose support widens with the downscale factor (so
 * shrinking averages, unlike a plain bilinear sample), coefficients in 22-bit fixed point, a
 * horizontal pass into an 8-bit image, then a vertical pass. detectron2 resizes its test images
 * this way (ResizeTransform on uint8), so a port that must see the same pixels needs it. The
 * resampler itself is classify-transform.ts's `resizeBilinear`.
 */

import { resizeBilinear } from './classify-transform.js';

/** Resizes HWC RGB (3 bytes a pixel) from width x height to outWidth x outHeight (a new buffer). */
export function pilResizeBilinear(
  src: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const out = resizeBilinear({ data: src, width, height }, outWidth, outHeight).data;
  return out === src ? src.slice() : out;
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
