import { type Compiled, compile, compileLets, type Env } from './expr.js';
import type { GemmView } from './gemm-views.js';
import {
  fragmentA,
  fragmentB,
  outputIndex,
  prologue,
  type Schedule,
  storeTarget,
  tileLoad,
} from './schedule.js';

/**
 * Runs the GEMM kernel's schedule in JavaScript, workgroup by workgroup and thread by thread,
 * evaluating the same expression trees the WGSL generator prints (wgsl.ts mirrors this loop
 * structure line for line). Every workgroup-memory phase runs for all threads before the next
 * starts, which is what the kernel's two barriers per k step guarantee on the GPU. Reads outside
 * a buffer throw, as do two threads writing one output element: index bugs surface loudly.
 *
 * Slow by design (an interpreter): meant for the small shapes of the tests.
 */

function read(buffer: Float32Array, index: number, name: string): number {
  if (!Number.isInteger(index) || index < 0 || index >= buffer.length) {
    throw new Error(`emulator: read ${name}[${index}] outside its ${buffer.length} elements`);
  }
  return buffer[index];
}

interface CompiledLoad {
  lets: (env: Env) => void;
  inRange: Compiled;
  accessLets: (env: Env) => void;
  valid: Compiled;
  index: Compiled;
  shared: Compiled;
}

function compileLoads(view: GemmView, s: Schedule, which: 'a' | 'b'): CompiledLoad[] {
  const op = which === 'a' ? view.a : view.b;
  const count = which === 'a' ? s.loadsA : s.loadsB;
  return Array.from({ length: count }, (_, i) => {
    const load = tileLoad(s, which, op.contiguous, i);
    const access = op.access(load.gOuter, load.gk, '');
    return {
      lets: compileLets(load.lets),
      inRange: compile(load.inRange),
      accessLets: compileLets(access.lets),
      valid: compile(access.valid),
      index: compile(access.index),
      shared: compile(load.shared),
    };
  });
}

/** Output of the GEMM pass: C, or the [splitK, M*N] partial sums when the reduction is split. */
export interface EmulatorTarget {
  out: Float32Array;
  /** Writes per element: a second write to one element throws. */
  written: Uint8Array;
}

/**
 * Output of the GEMM pass: C, or the [splitK, M*N] partial sums when the reduction is split. A
 * scattered view (one stride phase) writes into `target`, shared by all phases.
 */
export function emulateGemm(
  view: GemmView,
  s: Schedule,
  inputs: Record<string, Float32Array>,
  target?: EmulatorTarget,
): Float32Array {
  const size = s.splitK === 1 ? view.outputShape.reduce((a, b) => a * b, 1) : s.splitK * s.M * s.N;
  const out = target?.out ?? new Float32Array(size);
  const written = target?.written ?? new Uint8Array(out.length);
  if (out.length !== size) throw new Error('emulator: target has the wrong size');
  const tileA = new Float32Array(s.tileK * s.strideA);
  const tileB = new Float32Array(s.tileK * s.strideB);
  const regs = s.threadM * s.threadN;
  const bufA = inputs[view.a.buffer];
  const bufB = inputs[view.b.buffer];
  if (!bufA || !bufB) throw new Error(`emulator: inputs ${view.a.buffer} and ${view.b.buffer} are required`);
  const pro = compileLets(prologue(s));
  const fragA = Array.from({ length: s.threadM }, (_, i) => compile(fragmentA(s, i)));
  const fragB = Array.from({ length: s.threadN }, (_, j) => compile(fragmentB(s, j)));
  const loadsA = compileLoads(view, s, 'a');
  const loadsB = compileLoads(view, s, 'b');
  const stores = Array.from({ length: regs }, (_, r) => {
    const target = storeTarget(s, Math.floor(r / s.threadN), r % s.threadN);
    return {
      lets: compileLets(target.lets),
      inRange: compile(target.inRange),
      index: compile(outputIndex(s, view, target.gm, target.gn)),
    };
  });
  const copy = (env: Env, loads: CompiledLoad[], buf: Float32Array, name: string, tile: Float32Array) => {
    for (const load of loads) {
      load.lets(env);
      let value = 0;
      if (load.inRange(env)) {
        load.accessLets(env);
        if (load.valid(env)) value = read(buf, load.index(env), name);
      }
      const at = load.shared(env);
      if (at < 0 || at >= tile.length) throw new Error(`emulator: tile index ${at} out of range`);
      tile[at] = value;
    }
  };

  for (let wgz = 0; wgz < s.dispatch[2]; wgz++) {
    for (let wgy = 0; wgy < s.dispatch[1]; wgy++) {
      for (let wgx = 0; wgx < s.dispatch[0]; wgx++) {
        const envs: Env[] = [];
        for (let lid = 0; lid < s.wgSize; lid++) {
          const env: Env = { lid, wgx, wgy, wgz };
          pro(env);
          envs.push(env);
        }
        const acc = Array.from({ length: s.wgSize }, () => new Float32Array(regs));
        const a = new Float32Array(s.threadM);
        const b = new Float32Array(s.threadN);
        for (let kt = 0; kt < s.kSteps; kt++) {
          // Phase 1 (until the first barrier): every thread copies its tile elements.
          for (const env of envs) {
            env.kt = kt;
            copy(env, loadsA, bufA, view.a.buffer, tileA);
            copy(env, loadsB, bufB, view.b.buffer, tileB);
          }
          // Phase 2 (between the barriers): every thread accumulates its register block.
          envs.forEach((env, t) => {
            const r = acc[t];
            for (let kk = 0; kk < s.tileK; kk++) {
              env.kk = kk;
              for (let i = 0; i < s.threadM; i++) a[i] = tileA[fragA[i](env)];
              for (let j = 0; j < s.threadN; j++) b[j] = tileB[fragB[j](env)];
              for (let i = 0; i < s.threadM; i++) {
                // fma: one rounding of the product-sum, as the kernel's fma() on the GPU.
                for (let j = 0; j < s.threadN; j++) r[i * s.threadN + j] = r[i * s.threadN + j] + a[i] * b[j];
              }
            }
          });
        }
        envs.forEach((env, t) => {
          stores.forEach((store, r) => {
            store.lets(env);
            if (!store.inRange(env)) return;
            const at = store.index(env);
            if (at < 0 || at >= out.length) throw new Error(`emulator: write result[${at}] out of range`);
            if (written[at]) throw new Error(`emulator: result[${at}] written twice`);
            written[at] = 1;
            out[at] = acc[t][r];
          });
        });
      }
    }
  }
  if (!target) checkAllWritten(written);
  return out;
}

function checkAllWritten(written: Uint8Array): void {
  const missing = written.indexOf(0);
  if (missing >= 0) throw new Error(`emulator: result[${missing}] never written`);
}

/** The stride-phase input gradient: every phase's GEMM into one buffer, each element once. */
export function emulatePhases(
  views: GemmView[],
  schedules: Schedule[],
  inputs: Record<string, Float32Array>,
): Float32Array {
  if (views.length === 0) throw new Error('emulator: no phases');
  const size = views[0].outputShape.reduce((a, b) => a * b, 1);
  const target = { out: new Float32Array(size), written: new Uint8Array(size) };
  views.forEach((view, i) => {
    emulateGemm(view, schedules[i], inputs, target);
  });
  checkAllWritten(target.written);
  return target.out;
}

/** The split-K second pass, summing slices in the same order as the WGSL loop. */
export function emulateSplitKReduce(partial: Float32Array, size: number, splitK: number): Float32Array {
  if (partial.length !== size * splitK) throw new Error('emulator: partial buffer has the wrong size');
  const out = new Float32Array(size);
  for (let index = 0; index < size; index++) {
    let sum = 0;
    for (let z = 0; z < splitK; z++) sum = Math.fround(sum + partial[z * size + index]);
    out[index] = sum;
  }
  return out;
}

/** Both passes: the finished gradient, laid out as view.outputShape. */
export function emulateGradient(
  view: GemmView,
  s: Schedule,
  inputs: Record<string, Float32Array>,
): Float32Array {
  const c = emulateGemm(view, s, inputs);
  return s.splitK === 1 ? c : emulateSplitKReduce(c, s.M * s.N, s.splitK);
}
