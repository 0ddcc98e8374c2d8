import { convKey, type ConvParams } from '../conv-params.js';
import type { GemmView } from './gemm-views.js';
import type { Schedule } from './schedule.js';
import { gemmKernelSource, REDUCE_WORKGROUP, splitKReduceSource } from './wgsl.js';

/**
 * Programs in the shape tfjs-backend-webgpu's `runWebGPUProgram` takes (its WebGPUProgram
 * interface, as its own kernels build them): the backend declares the bindings (output
 * `result`, inputs by variableNames, a uniforms struct of shapes), prepends its helpers and
 * appends the `_start` entry point; the program supplies `main` and the dispatch grid.
 */
export interface WebGPUProgramLike {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** tfjs adds a `size` uniform when set; these kernels bake sizes in instead. */
  size: boolean;
  getUserCode(): string;
}

// A layout whose rank differs from the output's: tfjs then emits no getOutputCoords helper
// (these kernels index the output themselves) and, as y is non-empty, calls `main()` without
// a flat index.
const GRID_LAYOUT = { x: [0], y: [1], z: [2] };

function tilesKey(s: Schedule): string {
  return `${s.tileM}x${s.tileN}x${s.tileK}_${s.threadM}x${s.threadN}_k${s.splitK}`;
}

/** The GEMM pass: the gradient itself, or [splitK, M*N] partial sums. */
export function gemmProgram(view: GemmView, s: Schedule, p: ConvParams): WebGPUProgramLike {
  return {
    variableNames: [...view.inputs],
    outputShape: s.splitK === 1 ? [...view.outputShape] : [s.splitK, s.M * s.N],
    shaderKey: `resdet_convgrad_${view.kind}${view.phase ? `_phase${view.phase.join('')}` : ''}_${convKey(p)}_${tilesKey(s)}`,
    dispatchLayout: GRID_LAYOUT,
    dispatch: [...s.dispatch],
    workgroupSize: [s.wgX, s.wgY, 1],
    size: false,
    getUserCode: () => gemmKernelSource(view, s),
  };
}

/** The split-K second pass over the partial sums (input variable `partial`). */
export function splitKReduceProgram(outputShape: number[], splitK: number): WebGPUProgramLike {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames: ['partial'],
    outputShape: [...outputShape],
    shaderKey: `resdet_splitk_reduce_${size}_${splitK}`,
    // Flat: tfjs calls main(globalIndex), folding the grid back to one index if it had to
    // spread a long dispatch over y and z.
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / REDUCE_WORKGROUP), 1, 1],
    workgroupSize: [REDUCE_WORKGROUP, 1, 1],
    size: false,
    getUserCode: () => splitKReduceSource(size, splitK),
  };
}
