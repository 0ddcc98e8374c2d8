import * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-wasm's BackendWasm that kernels written here use. They are public
 * members of the class (its own kernels use them); the package exports the class but its types
 * are not worth depending on from core/, so this names just what is needed.
 */
export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
}

export interface WasmModuleLike {
  HEAPU8: Uint8Array;
  /** Present in the threaded build, where HEAPU8 may lag behind a grown shared memory. */
  wasmMemory?: WebAssembly.Memory;
}

export interface WasmBackendLike {
  wasm: WasmModuleLike;
  dataIdMap: { get(dataId: object): WasmTensorData };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function asWasmBackend(backend: unknown): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike>;
  if (!b?.wasm || !b.dataIdMap || typeof b.makeOutput !== 'function') {
    throw new Error('resdet wasm kernels: the backend passed to the kernel is not tfjs-backend-wasm');
  }
  return b as WasmBackendLike;
}

function heapBuffer(backend: WasmBackendLike): ArrayBufferLike {
  return backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
}

/**
 * A Float32Array view of a tensor's storage on the wasm heap. Views go stale when the heap grows,
 * so take them after every allocation a kernel makes, never before.
 */
export function f32View(backend: WasmBackendLike, t: tf.TensorInfo): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Float32Array(heapBuffer(backend), memoryOffset, tf.util.sizeFromShape(t.shape));
}

/** Runs another wasm kernel (as the backend's own kernels do) and returns its output. */
export function runWasmKernel(
  backend: WasmBackendLike,
  kernelName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = tf.getKernel(kernelName, 'wasm');
  if (!config) throw new Error(`resdet wasm kernels: kernel ${kernelName} is not registered for wasm`);
  const out = config.kernelFunc({ inputs, attrs, backend: backend as unknown as object });
  if (Array.isArray(out)) throw new Error(`resdet wasm kernels: ${kernelName} returned several outputs`);
  return out;
}

/** A tensor info that shares storage with `t` but has another shape (no copy, no new data id). */
export function withShape(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function dispose(backend: WasmBackendLike, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/** What TF.js hands every kernel function; the backend is narrowed with asWasmBackend. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: object;
}

/** An Int32Array view of an int32 tensor's storage on the wasm heap (same caveat as f32View). */
export function i32View(backend: WasmBackendLike, t: tf.TensorInfo): Int32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Int32Array(heapBuffer(backend), memoryOffset, tf.util.sizeFromShape(t.shape));
}
