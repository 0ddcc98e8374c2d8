import { type ConvParams, isPointwise } from './conv-params.js';
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
  };
}

export function gemmView(kind: GradKind, p: ConvParams): GemmView {
  return kind === 'filter' ? filterGradView(p) : inputGradView(p);
}
