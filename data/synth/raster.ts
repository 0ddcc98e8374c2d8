import type { Rng } from '../../core/rng.js';

/**
 * A tiny anti-aliased rasteriser for the synthetic sets: shapes are drawn straight into an RGB
 * buffer in JS, so the pixels (and therefore the boxes) depend only on the seed, not on a vector
 * renderer's version, and no SVG round trip costs time.
 */
export interface Canvas {
  data: Uint8Array;
  width: number;
  height: number;
}

export type Rgb = [number, number, number];

export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i];
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

/**
 * A textured background: a random low-saturation base colour, two soft colour gradients, a few
 * faint stripes and per-pixel noise, so a detector cannot find objects by "anything not flat".
 */
export function texturedBackground(rng: Rng, width: number, height: number): Canvas {
  const data = new Uint8Array(width * height * 3);
  const base = hsvToRgb(rng.next(), rng.uniform(0, 0.35), rng.uniform(0.25, 0.85));
  const tint = hsvToRgb(rng.next(), rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.9));
  const angle = rng.uniform(0, Math.PI * 2);
  const [gx, gy] = [Math.cos(angle) / width, Math.sin(angle) / height];
  const stripeFreq = rng.uniform(0.02, 0.12);
  const stripeAngle = rng.uniform(0, Math.PI);
  const [sx, sy] = [Math.cos(stripeAngle) * stripeFreq, Math.sin(stripeAngle) * stripeFreq];
  const stripeAmp = rng.uniform(0, 18);
  const noiseAmp = rng.uniform(6, 26);
  // sin(x*sx + y*sy) = sin(x*sx)cos(y*sy) + cos(x*sx)sin(y*sy): two table lookups per pixel.
  const sinX = Float32Array.from({ length: width }, (_, x) => Math.sin(x * sx));
  const cosX = Float32Array.from({ length: width }, (_, x) => Math.cos(x * sx));
  for (let y = 0; y < height; y++) {
    const sinY = Math.sin(y * sy);
    const cosY = Math.cos(y * sy);
    for (let x = 0; x < width; x++) {
      const g = Math.min(1, Math.max(0, 0.5 + (x - width / 2) * gx + (y - height / 2) * gy));
      const stripe = stripeAmp * (sinX[x] * cosY + cosX[x] * sinY);
      // Luminance grain (one draw per pixel); addNoise adds colour grain over the finished image.
      const grain = (rng.next() - 0.5) * 2 * noiseAmp + stripe;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = base[c] * (1 - g) + tint[c] * g + grain;
        data[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { data, width, height };
}

/** Blends `color` into the canvas with per-pixel coverage alpha(x, y) over a pixel rectangle. */
export function fillCoverage(
  canvas: Canvas,
  rect: [number, number, number, number],
  color: Rgb,
  alpha: (px: number, py: number) => number,
  shade?: { dx: number; dy: number; amount: number },
): void {
  const [x0, y0, x1, y1] = [
    Math.max(0, Math.floor(rect[0])),
    Math.max(0, Math.floor(rect[1])),
    Math.min(canvas.width, Math.ceil(rect[2])),
    Math.min(canvas.height, Math.ceil(rect[3])),
  ];
  const cx = (rect[0] + rect[2]) / 2;
  const cy = (rect[1] + rect[3]) / 2;
  const span = Math.max(1, rect[2] - rect[0], rect[3] - rect[1]);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const a = alpha(x + 0.5, y + 0.5);
      if (a <= 0) continue;
      // A gentle linear shading across the shape, so fills are not perfectly flat.
      const k = shade ? 1 + (shade.amount * ((x - cx) * shade.dx + (y - cy) * shade.dy)) / span : 1;
      const o = (y * canvas.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = color[c] * k;
        const fg = v < 0 ? 0 : v > 255 ? 255 : v;
        canvas.data[o + c] = Math.round(canvas.data[o + c] * (1 - a) + fg * a);
      }
    }
  }
}

/** Anti-aliased coverage of a disc: 1 inside, 0 outside, linear across the one-pixel edge. */
export function discCoverage(cx: number, cy: number, r: number) {
  return (px: number, py: number) => {
    const dx = px - cx;
    const dy = py - cy;
    return Math.min(1, Math.max(0, r - Math.sqrt(dx * dx + dy * dy) + 0.5));
  };
}

/** Squared distance from a point to a segment (squared: one sqrt per pixel instead of per edge). */
function segmentDistance2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax;
  const vy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)));
  const dx = px - ax - t * vx;
  const dy = py - ay - t * vy;
  return dx * dx + dy * dy;
}

/** Anti-aliased coverage of any simple polygon (even-odd inside test, distance to the nearest edge). */
export function polygonCoverage(points: ReadonlyArray<[number, number]>) {
  const n = points.length;
  return (px: number, py: number) => {
    let inside = false;
    let d = Number.POSITIVE_INFINITY;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
      d = Math.min(d, segmentDistance2(px, py, xi, yi, xj, yj));
    }
    // Only the one-pixel band around the outline needs the exact distance.
    if (d >= 0.25) return inside ? 1 : 0;
    const signed = inside ? Math.sqrt(d) : -Math.sqrt(d);
    return Math.min(1, Math.max(0, signed + 0.5));
  };
}

/** Adds uniform noise of +-amp to every channel (camera-like grain over shapes and background). */
export function addNoise(canvas: Canvas, rng: Rng, amp: number): void {
  const d = canvas.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] + (rng.next() - 0.5) * 2 * amp;
    d[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}
