import { type ConvParams, isPointwise } from '../conv-params.js';
import { add, and, div, type Expr, ge, type Let, lit, lt, mod, mul, sub, v } from './expr.js';

/**
 * Both convolution gradients as matrix products C[M, N] = sum_k A[m, k] B[k, n] whose operands
 * are gathered from the NHWC / HWIO tensors on the fly (implicit GEMM: no im2col buffer).
 *
 *   filter gradient  dW[r = (kh, kw, ci), co] = sum over k = (n, oh, ow) of x_patch[r, k] * dy[k, co]
 *   input gradient   dx[m = (n, ih, iw), ci]  = sum over k = (kh, kw, co) of dy_gather[m, k] * W[k, ci]
 *
 * C is row-major [M, N] in both, which is exactly HWIO (dW) and NHWC (dx) memory order.
 */

/** How one element of an operand is read: intermediate lets, an in-bounds condition, an index. */
export interface Access {
  lets: Let[];
  valid: Expr;
  index: Expr;
}

export interface Operand {
  /** The storage buffer's name in WGSL (tfjs names it after the program's variableNames). */
  buffer: string;
  /**
   * Which tile coordinate is contiguous in memory: neighbouring threads load neighbouring
   * elements along it, so global reads coalesce.
   */
  contiguous: 'outer' | 'k';
  /** outer is m for A and n for B; both arguments carry their [0, size) interval. */
  access(outer: Expr, k: Expr, prefix: string): Access;
}

export type GradKind = 'filter' | 'input';

export interface GemmView {
  kind: GradKind;
  M: number;
  N: number;
  K: number;
  a: Operand;
  b: Operand;
  /** Names of the input buffers in binding order (tfjs variableNames). */
  inputs: [string, string];
  /** Shape of the finished gradient. */
  outputShape: number[];
  /** Flat index of C[m, n] in the output. */
  cIndex(m: Expr, n: Expr): Expr;
  /**
   * True when C covers the whole output row-major (cIndex = m*N + n); false for a view that
   * writes a scattered part of it (one stride phase), which cannot use a split-K buffer.
   */
  dense: boolean;
  /** The stride phase (input gradient only), for shader keys. */
  phase?: [number, number];
}

/** Binds an expression to a let (constants stay inline) and returns a reference carrying its range. */
function bind(lets: Let[], name: string, e: Expr): Expr {
  if (e.kind === 'const' || e.kind === 'var') return e;
  lets.push([name, e]);
  return v(name, e.lo, e.hi);
}

/** dW = x_patchᵀ · dy: M = KH*KW*CI, N = CO, K = batch*OH*OW. */
export function filterGradView(p: ConvParams): GemmView {
  const M = p.filterHeight * p.filterWidth * p.inChannels;
  const N = p.outChannels;
  const K = p.batch * p.outHeight * p.outWidth;
  const pointwise = isPointwise(p);
  const a: Operand = {
    buffer: 'x',
    // Neighbouring rows r are neighbouring input channels: contiguous in NHWC.
    contiguous: 'outer',
    access(r, k, pre) {
      if (pointwise) return { lets: [], valid: lit(1), index: add(mul(k, p.inChannels), r) };
      const lets: Let[] = [];
      const kh = bind(lets, `${pre}kh`, div(r, p.filterWidth * p.inChannels));
      const kw = bind(lets, `${pre}kw`, mod(div(r, p.inChannels), p.filterWidth));
      const ci = bind(lets, `${pre}ci`, mod(r, p.inChannels));
      const img = bind(lets, `${pre}img`, div(k, p.outHeight * p.outWidth));
      const oh = bind(lets, `${pre}oh`, mod(div(k, p.outWidth), p.outHeight));
      const ow = bind(lets, `${pre}ow`, mod(k, p.outWidth));
      const ih = bind(
        lets,
        `${pre}ih`,
        add(sub(mul(oh, p.strideHeight), p.padTop), mul(kh, p.dilationHeight)),
      );
      const iw = bind(
        lets,
        `${pre}iw`,
        add(sub(mul(ow, p.strideWidth), p.padLeft), mul(kw, p.dilationWidth)),
      );
      const valid = and(ge(ih, 0), lt(ih, p.inHeight), ge(iw, 0), lt(iw, p.inWidth));
      const index = add(mul(add(mul(add(mul(img, p.inHeight), ih), p.inWidth), iw), p.inChannels), ci);
      return { lets, valid, index };
    },
  };
  const b: Operand = {
    buffer: 'dy',
    contiguous: 'outer',
    access(co, k) {
      // dy viewed as [batch*OH*OW, CO]: its NHWC layout already is this matrix.
      return { lets: [], valid: lit(1), index: add(mul(k, p.outChannels), co) };
    },
  };
  return {
    kind: 'filter',
    M,
    N,
    K,
    a,
    b,
    inputs: ['x', 'dy'],
    outputShape: [p.filterHeight, p.filterWidth, p.inChannels, p.outChannels],
    cIndex: (m, n) => add(mul(m, N), n),
    dense: true,
  };
}

/** dx = gather(dy) · Wᵀ: M = batch*H*W, N = CI, K = KH*KW*CO. */
export function inputGradView(p: ConvParams): GemmView {
  const M = p.batch * p.inHeight * p.inWidth;
  const N = p.inChannels;
  const K = p.filterHeight * p.filterWidth * p.outChannels;
  const pointwise = isPointwise(p);
  const a: Operand = {
    buffer: 'dy',
    // k runs over output channels fastest: contiguous in NHWC dy.
    contiguous: 'k',
    access(m, k, pre) {
      if (pointwise) return { lets: [], valid: lit(1), index: add(mul(m, p.outChannels), k) };
      const lets: Let[] = [];
      const img = bind(lets, `${pre}img`, div(m, p.inHeight * p.inWidth));
      const ih = bind(lets, `${pre}ih`, mod(div(m, p.inWidth), p.inHeight));
      const iw = bind(lets, `${pre}iw`, mod(m, p.inWidth));
      const kh = bind(lets, `${pre}kh`, div(k, p.filterWidth * p.outChannels));
      const kw = bind(lets, `${pre}kw`, mod(div(k, p.outChannels), p.filterWidth));
      const co = bind(lets, `${pre}co`, mod(k, p.outChannels));
      // Output position oh contributes to ih when oh*stride - pad + kh*dilation == ih.
      const th = bind(lets, `${pre}th`, sub(add(ih, p.padTop), mul(kh, p.dilationHeight)));
      const tw = bind(lets, `${pre}tw`, sub(add(iw, p.padLeft), mul(kw, p.dilationWidth)));
      const oh = bind(lets, `${pre}oh`, div(th, p.strideHeight));
      const ow = bind(lets, `${pre}ow`, div(tw, p.strideWidth));
      // th >= 0 comes first, so the remainder is taken of a non-negative value: < 1 means == 0.
      const valid = and(
        ge(th, 0),
        ge(tw, 0),
        lt(mod(th, p.strideHeight), 1),
        lt(mod(tw, p.strideWidth), 1),
        lt(oh, p.outHeight),
        lt(ow, p.outWidth),
      );
      const index = add(mul(add(mul(add(mul(img, p.outHeight), oh), p.outWidth), ow), p.outChannels), co);
      return { lets, valid, index };
    },
  };
  const b: Operand = {
    buffer: 'W',
    // k = (kh, kw, co) with co fastest: contiguous in HWIO W for a fixed input channel n.
    contiguous: 'k',
    access(ci, k) {
      const tap = div(k, p.outChannels);
      const co = mod(k, p.outChannels);
      return {
        lets: [],
        valid: lit(1),
        index: add(mul(add(mul(tap, p.inChannels), ci), p.outChannels), co),
      };
    },
  };
  return {
    kind: 'input',
    M,
    N,
    K,
    a,
    b,
    inputs: ['dy', 'W'],
    outputShape: [p.batch, p.inHeight, p.inWidth, p.inChannels],
    cIndex: (m, n) => add(mul(m, N), n),
    dense: true,
  };
}

export function gemmView(kind: GradKind, p: ConvParams): GemmView {
  return kind === 'filter' ? filterGradView(p) : inputGradView(p);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * One axis of a stride phase: input rows i0, i0 + stride, ... (those with (i + pad) % stride
 * equal) and the filter taps that reach them, an arithmetic progression kFirst + j*kStep. For
 * such a row i = i0 + q*stride and tap j the output row is q + c0 - j*cStep, exactly.
 */
interface PhaseAxis {
  i0: number;
  rows: number;
  kFirst: number;
  kStep: number;
  taps: number;
  c0: number;
  cStep: number;
}

function phaseAxis(
  phase: number,
  size: number,
  stride: number,
  pad: number,
  filter: number,
  dilation: number,
): PhaseAxis {
  const i0 = (((phase - pad) % stride) + stride) % stride;
  const rows = i0 < size ? Math.ceil((size - i0) / stride) : 0;
  // Taps k with (i0 + pad - k*dilation) % stride == 0: every kStep-th one from the first.
  const kStep = stride / gcd(dilation, stride);
  let kFirst = -1;
  for (let k = 0; k < Math.min(filter, kStep); k++) {
    if ((((i0 + pad - k * dilation) % stride) + stride) % stride === 0) {
      kFirst = k;
      break;
    }
  }
  const taps = kFirst < 0 ? 0 : Math.ceil((filter - kFirst) / kStep);
  return {
    i0,
    rows,
    kFirst: Math.max(kFirst, 0),
    kStep,
    taps,
    c0: (i0 + pad - Math.max(kFirst, 0) * dilation) / stride,
    cStep: (kStep * dilation) / stride,
  };
}

/**
 * The input gradient of a strided convolution split by output phase: pixels whose
 * (ih + pad) % stride agree receive contributions from the same taps only, so each phase is a
 * dense implicit GEMM over its own taps. The single-view form gathers every tap for every pixel
 * and multiplies zeros for (stride^2 - 1)/stride^2 of them. Phases with no pixels are left out;
 * phases with no taps have K = 0 and write zeros.
 */
export function inputGradPhaseViews(p: ConvParams): GemmView[] {
  const views: GemmView[] = [];
  for (let ph = 0; ph < p.strideHeight; ph++) {
    for (let pw = 0; pw < p.strideWidth; pw++) {
      const ah = phaseAxis(ph, p.inHeight, p.strideHeight, p.padTop, p.filterHeight, p.dilationHeight);
      const aw = phaseAxis(pw, p.inWidth, p.strideWidth, p.padLeft, p.filterWidth, p.dilationWidth);
      const M = p.batch * ah.rows * aw.rows;
      if (M === 0) continue;
      const N = p.inChannels;
      const K = ah.taps * aw.taps * p.outChannels;
      // No taps: the kernel's k loop never runs, so its loads are never built into anything real.
      const none: Access = { lets: [], valid: lit(0), index: lit(0) };
      const a: Operand = {
        buffer: 'dy',
        contiguous: 'k',
        access(m, k, pre) {
          if (K === 0) return none;
          const lets: Let[] = [];
          const img = bind(lets, `${pre}img`, div(m, ah.rows * aw.rows));
          const qh = bind(lets, `${pre}qh`, mod(div(m, aw.rows), ah.rows));
          const qw = bind(lets, `${pre}qw`, mod(m, aw.rows));
          const jh = bind(lets, `${pre}jh`, div(k, aw.taps * p.outChannels));
          const jw = bind(lets, `${pre}jw`, mod(div(k, p.outChannels), aw.taps));
          const co = bind(lets, `${pre}co`, mod(k, p.outChannels));
          const oh = bind(lets, `${pre}oh`, sub(add(qh, ah.c0), mul(jh, ah.cStep)));
          const ow = bind(lets, `${pre}ow`, sub(add(qw, aw.c0), mul(jw, aw.cStep)));
          const valid = and(ge(oh, 0), lt(oh, p.outHeight), ge(ow, 0), lt(ow, p.outWidth));
          const index = add(mul(add(mul(add(mul(img, p.outHeight), oh), p.outWidth), ow), p.outChannels), co);
          return { lets, valid, index };
        },
      };
      const b: Operand = {
        buffer: 'W',
        contiguous: 'k',
        access(ci, k) {
          if (K === 0) return none;
          const jh = div(k, aw.taps * p.outChannels);
          const jw = mod(div(k, p.outChannels), aw.taps);
          const co = mod(k, p.outChannels);
          const kh = add(mul(jh, ah.kStep), ah.kFirst);
          const kw = add(mul(jw, aw.kStep), aw.kFirst);
          const tap = add(mul(kh, p.filterWidth), kw);
          return {
            lets: [],
            valid: lit(1),
            index: add(mul(add(mul(tap, p.inChannels), ci), p.outChannels), co),
          };
        },
      };
      views.push({
        kind: 'input',
        M,
        N,
        K,
        a,
        b,
        inputs: ['dy', 'W'],
        outputShape: [p.batch, p.inHeight, p.inWidth, p.inChannels],
        cIndex: (m, n) => {
          const img = div(m, ah.rows * aw.rows);
          const ih = add(mul(mod(div(m, aw.rows), ah.rows), p.strideHeight), ah.i0);
          const iw = add(mul(mod(m, aw.rows), p.strideWidth), aw.i0);
          return add(mul(add(mul(add(mul(img, p.inHeight), ih), p.inWidth), iw), p.inChannels), n);
        },
        dense: false,
        phase: [ph, pw],
      });
    }
  }
  return views;
}
