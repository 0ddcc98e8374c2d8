import { add, and, div, type Expr, type Let, lt, min, mod, mul, v } from './expr.js';
import type { GemmView } from './gemm-views.js';

/**
 * The tiling schedule of the GEMM kernels, shared by the WGSL generator and the emulator.
 *
 * A workgroup computes a tileM x tileN block of C. It walks its share of the reduction in steps
 * of tileK: all threads copy a tileM x tileK slice of A and a tileK x tileN slice of B into
 * workgroup memory, meet at a barrier, and each thread accumulates a threadM x threadN register
 * block from them. Thread (tx, ty) owns rows ty + i*wgY and columns tx + j*wgX: strided, so a
 * warp's reads of the B tile and its writes of C hit consecutive addresses.
 *
 * Split-K: dispatch z = 0..splitK-1 takes reduction indices [z*kPerSplit, (z+1)*kPerSplit) and
 * writes its partial C to slice z of a [splitK, M*N] buffer that a second pass sums. It gives
 * the filter gradient enough workgroups when M*N is small and K = batch*OH*OW is huge (the stem).
 */

export interface TileConfig {
  tileM: number;
  tileN: number;
  tileK: number;
  threadM: number;
  threadN: number;
}

export const DEFAULT_TILES: TileConfig = { tileM: 64, tileN: 64, tileK: 16, threadM: 4, threadN: 4 };

/** WebGPU's default limits, which tfjs's device keeps. */
export const MAX_WORKGROUP_STORAGE_BYTES = 16384;
export const MAX_INVOCATIONS_PER_WORKGROUP = 256;
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

export interface Schedule extends TileConfig {
  M: number;
  N: number;
  K: number;
  wgX: number;
  wgY: number;
  wgSize: number;
  /** Elements of the A / B tile each thread copies per k step. */
  loadsA: number;
  loadsB: number;
  splitK: number;
  kPerSplit: number;
  /** k steps per split: a compile-time constant, so every barrier sits in uniform control flow. */
  kSteps: number;
  /** Row strides of the A and B tiles in workgroup memory (see tileStrides). */
  strideA: number;
  strideB: number;
  dispatch: [number, number, number];
}

/** Which coordinate of each operand is contiguous in memory (GemmView.a/b.contiguous). */
export interface Contiguity {
  a: 'outer' | 'k';
  b: 'outer' | 'k';
}

/**
 * Tiles are stored k-major (row kk holds tileOuter values). An operand loaded with k fastest has
 * neighbouring threads storing one row apart; a row of 64 floats would put them all in one
 * memory bank, so such tiles get one float of padding per row.
 */
export function tileStrides(t: TileConfig, c: Contiguity): { strideA: number; strideB: number } {
  return {
    strideA: t.tileM + (c.a === 'k' ? 1 : 0),
    strideB: t.tileN + (c.b === 'k' ? 1 : 0),
  };
}

export interface ScheduleOptions {
  tiles?: TileConfig;
  /** Reduction splits; default chosen by `chooseSplitK`. */
  splitK?: number;
  /** Default: the view's operands' (both 'outer', no padding, for a bare M/N/K). */
  contiguity?: Contiguity;
}

export function checkTiles(t: TileConfig): void {
  for (const [k, val] of Object.entries(t)) {
    if (!Number.isInteger(val) || val < 1) throw new Error(`tile config: ${k} must be a positive integer`);
  }
  if (t.tileM % t.threadM || t.tileN % t.threadN) {
    throw new Error('tile config: tileM / tileN must be multiples of threadM / threadN');
  }
  const wgSize = (t.tileM / t.threadM) * (t.tileN / t.threadN);
  if (wgSize > MAX_INVOCATIONS_PER_WORKGROUP) {
    throw new Error(
      `tile config: ${wgSize} invocations per workgroup (limit ${MAX_INVOCATIONS_PER_WORKGROUP})`,
    );
  }
  if ((t.tileM * t.tileK) % wgSize || (t.tileN * t.tileK) % wgSize) {
    throw new Error('tile config: each tile slice must split evenly over the workgroup threads');
  }
  // +2: the row padding tileStrides may add (one float per k row of each tile).
  const bytes = 4 * t.tileK * (t.tileM + t.tileN + 2);
  if (bytes > MAX_WORKGROUP_STORAGE_BYTES) {
    throw new Error(`tile config: ${bytes} bytes of workgroup memory (limit ${MAX_WORKGROUP_STORAGE_BYTES})`);
  }
}

/**
 * Enough workgroups to fill a large GPU (an H100 has 132 SMs; ~4 resident workgroups each),
 * but at least `minStepsPerSplit` k steps per split so the second pass stays cheap.
 */
export function chooseSplitK(
  M: number,
  N: number,
  K: number,
  t: TileConfig,
  targetWorkgroups = 528,
  minStepsPerSplit = 8,
): number {
  const tiles = Math.ceil(M / t.tileM) * Math.ceil(N / t.tileN);
  if (tiles >= targetWorkgroups) return 1;
  const steps = Math.ceil(K / t.tileK);
  const bySteps = Math.max(1, Math.floor(steps / minStepsPerSplit));
  return Math.max(1, Math.min(Math.ceil(targetWorkgroups / tiles), bySteps, 1024));
}

export function makeSchedule(
  view: Pick<GemmView, 'M' | 'N' | 'K'> & Partial<Pick<GemmView, 'a' | 'b'>>,
  opts: ScheduleOptions = {},
): Schedule {
  const t = opts.tiles ?? DEFAULT_TILES;
  checkTiles(t);
  const { M, N, K } = view;
  const wgX = t.tileN / t.threadN;
  const wgY = t.tileM / t.threadM;
  const wgSize = wgX * wgY;
  const requested = opts.splitK ?? chooseSplitK(M, N, K, t);
  if (!Number.isInteger(requested) || requested < 1)
    throw new Error(`splitK must be a positive integer, got ${requested}`);
  const kPerSplit = Math.ceil(Math.ceil(K / requested) / t.tileK) * t.tileK;
  // Rounding kPerSplit up to whole tiles can leave trailing splits empty: drop them. K = 0 (a
  // stride phase no tap reaches) is one split of no k steps: it writes zeros.
  const splitK = K === 0 ? 1 : Math.ceil(K / kPerSplit);
  const dispatch: [number, number, number] = [Math.ceil(N / t.tileN), Math.ceil(M / t.tileM), splitK];
  if (dispatch.some((d) => d > MAX_WORKGROUPS_PER_DIMENSION)) {
    throw new Error(
      `GEMM ${M}x${N}x${K}: dispatch [${dispatch.join(', ')}] exceeds ${MAX_WORKGROUPS_PER_DIMENSION} per dimension`,
    );
  }
  return {
    ...t,
    M,
    N,
    K,
    wgX,
    wgY,
    wgSize,
    loadsA: (t.tileM * t.tileK) / wgSize,
    loadsB: (t.tileN * t.tileK) / wgSize,
    splitK,
    kPerSplit,
    kSteps: kPerSplit / t.tileK,
    ...tileStrides(
      t,
      opts.contiguity ??
        (view.a && view.b ? { a: view.a.contiguous, b: view.b.contiguous } : { a: 'outer', b: 'outer' }),
    ),
    dispatch,
  };
}

/** Built-in values of one invocation, as the kernel reads them. */
export function invocationVars(s: Schedule): { lid: Expr; wgx: Expr; wgy: Expr; wgz: Expr; kt: Expr } {
  return {
    lid: v('lid', 0, s.wgSize - 1),
    wgx: v('wgx', 0, s.dispatch[0] - 1),
    wgy: v('wgy', 0, s.dispatch[1] - 1),
    wgz: v('wgz', 0, s.dispatch[2] - 1),
    kt: v('kt', 0, s.kSteps - 1),
  };
}

/** Per-invocation values computed once: thread coordinates and this split's reduction range. */
export function prologue(s: Schedule): Let[] {
  const { lid, wgz } = invocationVars(s);
  return [
    ['tx', mod(lid, s.wgX)],
    ['ty', div(lid, s.wgX)],
    ['kBegin', mul(wgz, s.kPerSplit)],
    ['kEnd', min(add(mul(wgz, s.kPerSplit), s.kPerSplit), s.K)],
  ];
}

const tx = (s: Schedule) => v('tx', 0, s.wgX - 1);
const ty = (s: Schedule) => v('ty', 0, s.wgY - 1);

/** One element a thread copies into a workgroup tile on a k step. */
export interface TileLoad {
  /** Lets giving gOuter (m or n) and gk, the global coordinates read. */
  lets: Let[];
  /** gOuter and gk in range (the gathered read may still fall in the padding). */
  inRange: Expr;
  /** Position in the workgroup tile, stored k-major: sk*stride + sOuter. */
  shared: Expr;
  gOuter: Expr;
  gk: Expr;
}

/** The i-th element (0 <= i < loadsA or loadsB) that invocation `lid` copies for operand A or B. */
export function tileLoad(s: Schedule, operand: 'a' | 'b', contiguous: 'outer' | 'k', i: number): TileLoad {
  const { lid, wgx, wgy, kt } = invocationVars(s);
  const tileOuter = operand === 'a' ? s.tileM : s.tileN;
  const size = operand === 'a' ? s.M : s.N;
  const e = add(lid, i * s.wgSize);
  const sOuter = contiguous === 'outer' ? mod(e, tileOuter) : div(e, s.tileK);
  const sk = contiguous === 'outer' ? div(e, tileOuter) : mod(e, s.tileK);
  const base = operand === 'a' ? mul(wgy, s.tileM) : mul(wgx, s.tileN);
  const kBegin = v('kBegin', 0, (s.splitK - 1) * s.kPerSplit);
  const kEnd = v('kEnd', 1, s.K);
  const lets: Let[] = [
    ['gOuter', add(base, sOuter)],
    ['gk', add(add(kBegin, mul(kt, s.tileK)), sk)],
  ];
  const gOuterRaw = lets[0][1];
  const gkRaw = lets[1][1];
  const gOuter = v('gOuter', gOuterRaw.lo, gOuterRaw.hi);
  const gk = v('gk', gkRaw.lo, gkRaw.hi);
  return {
    lets,
    inRange: and(lt(gOuter, size), lt(gk, kEnd)),
    shared: add(mul(sk, operand === 'a' ? s.strideA : s.strideB), sOuter),
    gOuter: v('gOuter', 0, size - 1),
    gk: v('gk', 0, s.K - 1),
  };
}

/** Tile positions a thread reads on inner step kk: row i of A, column j of B. */
export function fragmentA(s: Schedule, i: number): Expr {
  return add(mul(v('kk', 0, s.tileK - 1), s.strideA), add(ty(s), i * s.wgY));
}

export function fragmentB(s: Schedule, j: number): Expr {
  return add(mul(v('kk', 0, s.tileK - 1), s.strideB), add(tx(s), j * s.wgX));
}

/** Where register (i, j) of a thread lands in C, and whether it exists. */
export function storeTarget(
  s: Schedule,
  i: number,
  j: number,
): { lets: Let[]; inRange: Expr; gm: Expr; gn: Expr } {
  const { wgx, wgy } = invocationVars(s);
  const gmRaw = add(mul(wgy, s.tileM), add(ty(s), i * s.wgY));
  const gnRaw = add(mul(wgx, s.tileN), add(tx(s), j * s.wgX));
  const gm = v('gm', gmRaw.lo, gmRaw.hi);
  const gn = v('gn', gnRaw.lo, gnRaw.hi);
  return {
    lets: [
      ['gm', gmRaw],
      ['gn', gnRaw],
    ],
    inRange: and(lt(gm, s.M), lt(gn, s.N)),
    gm: v('gm', 0, s.M - 1),
    gn: v('gn', 0, s.N - 1),
  };
}

/** Flat output index of C[gm, gn]: slice wgz of the partial buffer when the reduction is split. */
export function outputIndex(s: Schedule, view: Pick<GemmView, 'cIndex' | 'dense'>, gm: Expr, gn: Expr): Expr {
  const c = view.cIndex(gm, gn);
  if (s.splitK === 1) return c;
  if (!view.dense) throw new Error('a scattered (stride-phase) GEMM cannot split its reduction');
  return add(mul(invocationVars(s).wgz, s.M * s.N), c);
}
