import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, f32View, i32View } from '../kernels/wasm-backend.js';
import { type MapShape, type RoiAlignParams, roiAlignBackward, roiAlignForward } from './align.js';
import { type RoiPoolParams, roiPoolBackward, roiPoolForward } from './pool.js';

/**
 * RoIAlign and RoIPool as TF.js kernels with registered gradients, so the feature map stays on
 * the backend that holds it. Inputs: `x` [N, H, W, C] float32 and `rois` [R, 5] float32 rows
 * (batch index, x1, y1, x2, y2). The cpu and wasm kernels run core/roi's loops over the tensors'
 * own storage; core/webgpu/roi.ts has the WGSL ones.
 */
export const ROI_ALIGN = 'ResdetRoiAlign';
export const ROI_ALIGN_GRAD = 'ResdetRoiAlignGrad';
/** Two outputs: the pooled values and the int32 flat map index of each maximum (-1: empty bin). */
export const ROI_POOL = 'ResdetRoiPool';
export const ROI_POOL_GRAD = 'ResdetRoiPoolGrad';

export type RoiAlignAttrs = RoiAlignParams;
export type RoiPoolAttrs = RoiPoolParams;
/** Gradient kernels also get the feature map's shape. */
export interface RoiGradAttrs {
  inputShape: [number, number, number, number];
}

export function mapShape(shape: readonly number[]): MapShape {
  const [n, h, w, c] = shape;
  return { n, h, w, c };
}

export function pooledShape(rois: tf.TensorInfo, x: readonly number[], p: RoiPoolParams): number[] {
  return [rois.shape[0], p.pooledHeight, p.pooledWidth, x[3]];
}

/** The part of tfjs-backend-cpu's MathBackendCPU these kernels use (public members). */
interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
}

function asCpuBackend(backend: unknown): CpuBackendLike {
  const b = backend as Partial<CpuBackendLike>;
  if (!b?.data || typeof b.makeTensorInfo !== 'function') {
    throw new Error('resdet RoI kernels: the backend passed to the kernel is not tfjs-backend-cpu');
  }
  return b as CpuBackendLike;
}

/** Typed-array access to a backend's tensors: what the loops need, whichever backend holds them. */
interface Storage {
  f32(t: tf.TensorInfo): Float32Array;
  i32(t: tf.TensorInfo): Int32Array;
  /** A zero-filled output; views of earlier tensors must be taken again after it (wasm heap growth). */
  output(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
}

function cpuStorage(backend: unknown): Storage {
  const b = asCpuBackend(backend);
  return {
    f32: (t) => b.data.get(t.dataId).values as Float32Array,
    i32: (t) => b.data.get(t.dataId).values as Int32Array,
    output: (shape, dtype) => {
      const size = tf.util.sizeFromShape(shape);
      return b.makeTensorInfo(
        shape,
        dtype,
        dtype === 'float32' ? new Float32Array(size) : new Int32Array(size),
      );
    },
  };
}

function wasmStorage(backend: unknown): Storage {
  const b = asWasmBackend(backend);
  return {
    f32: (t) => f32View(b, t),
    i32: (t) => i32View(b, t),
    output: (shape, dtype) => {
      const t = b.makeOutput(shape, dtype);
      (dtype === 'float32' ? f32View(b, t) : i32View(b, t)).fill(0);
      return t;
    },
  };
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: object;
}

function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`resdet RoI kernels: missing input ${name}`);
  return t;
}

function attrsOf<T>(args: KernelArgs): T {
  return args.attrs as unknown as T;
}

function alignForward(storage: Storage, args: KernelArgs): tf.TensorInfo {
  const x = input(args, 'x');
  const rois = input(args, 'rois');
  const p = attrsOf<RoiAlignAttrs>(args);
  const out = storage.output(pooledShape(rois, x.shape, p), 'float32');
  roiAlignForward(storage.f32(x), storage.f32(rois), mapShape(x.shape), p, storage.f32(out));
  return out;
}

function alignBackward(storage: Storage, args: KernelArgs): tf.TensorInfo {
  const dy = input(args, 'dy');
  const rois = input(args, 'rois');
  const p = attrsOf<RoiAlignAttrs & RoiGradAttrs>(args);
  const dx = storage.output([...p.inputShape], 'float32');
  roiAlignBackward(storage.f32(dy), storage.f32(rois), mapShape(p.inputShape), p, storage.f32(dx));
  return dx;
}

function poolForward(storage: Storage, args: KernelArgs): tf.TensorInfo[] {
  const x = input(args, 'x');
  const rois = input(args, 'rois');
  const p = attrsOf<RoiPoolAttrs>(args);
  const shape = pooledShape(rois, x.shape, p);
  const out = storage.output(shape, 'float32');
  const argmax = storage.output(shape, 'int32');
  const where = storage.i32(argmax);
  where.fill(-1);
  roiPoolForward(storage.f32(x), storage.f32(rois), mapShape(x.shape), p, storage.f32(out), where);
  return [out, argmax];
}

function poolBackward(storage: Storage, args: KernelArgs): tf.TensorInfo {
  const dy = input(args, 'dy');
  const argmax = input(args, 'argmax');
  const p = attrsOf<RoiPoolAttrs & RoiGradAttrs>(args);
  const dx = storage.output([...p.inputShape], 'float32');
  roiPoolBackward(storage.f32(dy), storage.i32(argmax), storage.f32(dx));
  return dx;
}

function typedArrayKernels(backendName: string, storageOf: (backend: unknown) => Storage): tf.KernelConfig[] {
  const kernel =
    (run: (s: Storage, a: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]): tf.KernelFunc =>
    (args) =>
      run(storageOf(args.backend), args as KernelArgs);
  return [
    { kernelName: ROI_ALIGN, backendName, kernelFunc: kernel(alignForward) },
    { kernelName: ROI_ALIGN_GRAD, backendName, kernelFunc: kernel(alignBackward) },
    { kernelName: ROI_POOL, backendName, kernelFunc: kernel(poolForward) },
    { kernelName: ROI_POOL_GRAD, backendName, kernelFunc: kernel(poolBackward) },
  ];
}

/** The cpu and wasm kernels (the same loops over each backend's storage). */
export const roiTypedArrayKernels: readonly tf.KernelConfig[] = [
  ...typedArrayKernels('cpu', cpuStorage),
  ...typedArrayKernels('wasm', wasmStorage),
];

function inputShapeOf(x: tf.Tensor): [number, number, number, number] {
  return [...x.shape] as [number, number, number, number];
}

/** Gradients flow to the feature map only (not to the boxes, as torchvision). */
export const roiGradients: readonly tf.GradConfig[] = [
  {
    kernelName: ROI_ALIGN,
    inputsToSave: ['x', 'rois'],
    gradFunc: (dy, saved, attrs) => {
      const [x, rois] = saved;
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              ROI_ALIGN_GRAD,
              { dy: dy as tf.Tensor, rois },
              { ...attrs, inputShape: inputShapeOf(x) },
            ) as tf.Tensor,
        rois: () => tf.zerosLike(rois),
      };
    },
  },
  {
    kernelName: ROI_POOL,
    inputsToSave: ['x', 'rois'],
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const [x, rois, argmax] = saved;
      const g = Array.isArray(dy) ? dy[0] : dy;
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              ROI_POOL_GRAD,
              { dy: g, argmax, rois },
              { ...attrs, inputShape: inputShapeOf(x) },
            ) as tf.Tensor,
        rois: () => tf.zerosLike(rois),
      };
    },
  },
];
