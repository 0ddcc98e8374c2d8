/**
 * Dawn (the `webgpu` package) without TF.js: a device for compiling generated WGSL. Dawn's
 * `backend=null` adapter needs no GPU and no Vulkan driver yet runs the full shader compiler
 * (Tint) and pipeline validation, so generated kernels are compiled on CPU-only machines too;
 * it executes nothing (buffers read back garbage), so numbers are checked on a real GPU only.
 */

// biome-ignore lint/suspicious/noEmptyInterface: an opaque handle
export interface ShaderModuleLike {}

export interface DeviceLike {
  createShaderModule(descriptor: { code: string; label?: string }): ShaderModuleLike;
  createComputePipeline(descriptor: {
    layout: 'auto';
    compute: { module: ShaderModuleLike; entryPoint: string };
  }): unknown;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  destroy(): void;
  limits: Record<string, number>;
}

interface AdapterLike {
  requestDevice(descriptor?: unknown): Promise<DeviceLike>;
  info?: unknown;
}

export interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>;
}

interface WebgpuModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

// Through a variable: TypeScript does not need the package's global WebGPU types.
const WEBGPU_PACKAGE = 'webgpu';

/** Loads Dawn, installs its WebGPU globals (GPUBufferUsage, ...) and creates a GPU object. */
export async function createDawnGpu(flags: string[]): Promise<GpuLike> {
  const mod = (await import(WEBGPU_PACKAGE)) as WebgpuModule;
  Object.assign(globalThis, mod.globals);
  return mod.create(flags);
}

/** A device on Dawn's null backend; throws with the reason when Dawn cannot provide one. */
export async function openNullDevice(): Promise<DeviceLike> {
  const gpu = await createDawnGpu(['backend=null']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error("Dawn's null backend gave no adapter");
  return adapter.requestDevice();
}

export interface ShaderSource {
  label: string;
  code: string;
}

/**
 * Compiles complete WGSL modules and builds their compute pipelines (entry point `_start`),
 * which also validates workgroup sizes and workgroup-memory limits against the device. Returns
 * the first validation error of each shader ('' when it compiled).
 *
 * Everything is created synchronously inside nested error scopes, and the scopes are popped only
 * afterwards: on this project's CPU machines dawn.node aborts (futex / mutex assertions) when a
 * promise such as getCompilationInfo() is awaited while it still compiles, whereas this order has
 * been stable. Scope i is the innermost one while shader i compiles, so it holds that shader's error.
 */
export async function compileBatch(device: DeviceLike, shaders: readonly ShaderSource[]): Promise<string[]> {
  for (const { label, code } of shaders) {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code, label });
    device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: '_start' } });
  }
  const errors = new Array<string>(shaders.length).fill('');
  for (let i = shaders.length - 1; i >= 0; i--) {
    const error = await device.popErrorScope();
    if (error) errors[i] = `${shaders[i].label}: ${error.message.trim()}`;
  }
  return errors;
}
