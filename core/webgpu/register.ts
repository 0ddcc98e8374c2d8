import * as tf from '@tensorflow/tfjs';
import { type ConvParams, convParamsFromInfo } from '../conv-params.js';
import { filterGradView, type GemmView, inputGradPhaseViews, inputGradView } from './gemm-views.js';
import { gemmProgram, splitKReduceProgram, type WebGPUProgramLike } from './programs.js';
import { makeSchedule, type TileConfig } from './schedule.js';

/**
 * resdet's WGSL kernels for tfjs-backend-webgpu, registered through TF.js's public kernel
 * registry in place of the backend's own Conv2DBackpropFilter / Conv2DBackpropInput. They are
 * active only after an explicit `registerWebgpuKernels()` (or RESDET_WEBGPU_KERNELS, read by
 * core/backend.ts when it starts the webgpu backend), so an untested kernel never runs unasked.
 * Cases they do not cover (NCHW, non-float32) go to the backend's own kernel.
 */

export type WebgpuKernelName = 'filter' | 'input';
export const WEBGPU_KERNEL_NAMES: readonly WebgpuKernelName[] = ['filter', 'input'];

const TF_NAMES: Record<WebgpuKernelName, string> = {
  filter: 'Conv2DBackpropFilter',
  input: 'Conv2DBackpropInput',
};

/** The part of tfjs-backend-webgpu's WebGPUBackend these kernels call (public members). */
export interface WebGPUBackendLike {
  runWebGPUProgram(
    program: WebGPUProgramLike,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programDefinedUniform?: unknown[],
    /** Write into this existing output instead of allocating one. */
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function asWebgpuBackend(backend: unknown): WebGPUBackendLike {
  const b = backend as Partial<WebGPUBackendLike>;
  if (!b || typeof b.runWebGPUProgram !== 'function') {
    throw new Error('resdet webgpu kernels: the backend passed to the kernel is not tfjs-backend-webgpu');
  }
  return b as WebGPUBackendLike;
}

export interface WebgpuKernelOptions {
  /** Which gradients to replace; default both. */
  kernels?: readonly WebgpuKernelName[];
  /** Tile sizes (default DEFAULT_TILES); for tuning runs. */
  tiles?: TileConfig;
  /** Fixed reduction split for the filter gradient; default chosen per shape. */
  splitK?: number;
  /**
   * Split strided input gradients by output phase (default true): stride^2 dense GEMMs instead
   * of one that multiplies zeros for all but 1/stride^2 of its products.
   */
  phases?: boolean;
}

export interface KernelStats {
  filter: number;
  input: number;
  /** Calls handed to the backend's own kernel (unsupported layout or dtype). */
  fallback: number;
}

const stats: KernelStats = { filter: 0, input: 0, fallback: 0 };

/** How many times each kernel ran since registration (benchmarks and tests check it was used). */
export function webgpuKernelStats(): KernelStats {
  return { ...stats };
}

function runGemm(
  backend: WebGPUBackendLike,
  view: GemmView,
  p: ConvParams,
  inputs: tf.TensorInfo[],
  opts: WebgpuKernelOptions,
): tf.TensorInfo {
  const s = makeSchedule(view, {
    tiles: opts.tiles,
    splitK: view.kind === 'filter' ? opts.splitK : 1,
  });
  const out = backend.runWebGPUProgram(gemmProgram(view, s, p), inputs, 'float32');
  if (s.splitK === 1) return out;
  const reduced = backend.runWebGPUProgram(splitKReduceProgram(view.outputShape, s.splitK), [out], 'float32');
  // The partial buffer stays alive until the queued passes using it are submitted.
  backend.disposeData(out.dataId);
  return reduced;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfo(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvAttrs,
) {
  return tf.backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function supported(attrs: ConvAttrs, ...inputs: tf.TensorInfo[]): boolean {
  const format = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  return format === 'channelsLast' && inputs.every((t) => t.dtype === 'float32');
}

function makeKernelFunc(
  name: WebgpuKernelName,
  original: tf.KernelFunc,
  opts: WebgpuKernelOptions,
): tf.KernelFunc {
  return (args) => {
    const backend = asWebgpuBackend(args.backend);
    if (name === 'filter') {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
      if (!supported(attrs, x, dy)) {
        stats.fallback++;
        return original(args);
      }
      const p = convParamsFromInfo(
        convInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs),
      );
      stats.filter++;
      return runGemm(backend, filterGradView(p), p, [x, dy], opts);
    }
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    if (!supported(attrs, dy, filter)) {
      stats.fallback++;
      return original(args);
    }
    const p = convParamsFromInfo(
      convInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs),
    );
    stats.input++;
    const strided = p.strideHeight > 1 || p.strideWidth > 1;
    if (!strided || opts.phases === false) return runGemm(backend, inputGradView(p), p, [dy, filter], opts);
    // Each phase writes its own pixels of one shared output; together they cover all of it.
    let out: tf.TensorInfo | undefined;
    for (const view of inputGradPhaseViews(p)) {
      const s = makeSchedule(view, { tiles: opts.tiles, splitK: 1 });
      out = backend.runWebGPUProgram(gemmProgram(view, s, p), [dy, filter], 'float32', undefined, out);
    }
    if (!out) throw new Error('resdet webgpu kernels: a strided input gradient with no phases');
    return out;
  };
}

/** The backend's own kernels, kept while ours are registered. */
const originals = new Map<WebgpuKernelName, tf.KernelConfig>();

/**
 * Replaces the webgpu backend's convolution-gradient kernels with resdet's. Call it after the
 * webgpu backend is loaded (initBackend('webgpu')): loading the backend registers its kernels
 * and would silently put them back. Returns the kernels now active.
 */
export function registerWebgpuKernels(opts: WebgpuKernelOptions = {}): WebgpuKernelName[] {
  const names = [...(opts.kernels ?? WEBGPU_KERNEL_NAMES)];
  for (const name of names) {
    const tfName = TF_NAMES[name];
    const current = originals.get(name) ?? tf.getKernel(tfName, 'webgpu');
    if (!current) {
      throw new Error(
        `resdet webgpu kernels: ${tfName} has no webgpu kernel to replace; load the webgpu backend first (initBackend('webgpu'))`,
      );
    }
    if (!originals.has(name)) originals.set(name, current);
    if (tf.getKernel(tfName, 'webgpu')) tf.unregisterKernel(tfName, 'webgpu');
    tf.registerKernel({
      kernelName: tfName,
      backendName: 'webgpu',
      kernelFunc: makeKernelFunc(name, current.kernelFunc, opts),
    });
  }
  stats.filter = 0;
  stats.input = 0;
  stats.fallback = 0;
  return names;
}

/** Puts the backend's own kernels back. */
export function unregisterWebgpuKernels(): void {
  for (const [name, config] of originals) {
    const tfName = TF_NAMES[name];
    if (tf.getKernel(tfName, 'webgpu')) tf.unregisterKernel(tfName, 'webgpu');
    tf.registerKernel(config);
  }
  originals.clear();
}

/** Kernels resdet's own are registered for (empty when the backend's run). */
export function activeWebgpuKernels(): WebgpuKernelName[] {
  return [...originals.keys()];
}

/**
 * RESDET_WEBGPU_KERNELS: unset, '' or '0' = the backend's own kernels; '1' or 'all' = all of
 * resdet's; or a comma list of names (filter, input).
 */
export function webgpuKernelsFromEnv(value = process.env.RESDET_WEBGPU_KERNELS): WebgpuKernelName[] {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'none') return [];
  if (v === '1' || v === 'all') return [...WEBGPU_KERNEL_NAMES];
  const names = v.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(WEBGPU_KERNEL_NAMES as readonly string[]).includes(n)) {
      throw new Error(
        `RESDET_WEBGPU_KERNELS: unknown kernel "${n}" (use 1, all, 0, or a list of: ${WEBGPU_KERNEL_NAMES.join(', ')})`,
      );
    }
  }
  return names as WebgpuKernelName[];
}
