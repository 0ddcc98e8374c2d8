// The public surface: opt-in registration of resdet's WGSL kernels for the webgpu backend.
export {
  activeWebgpuKernels,
  type KernelStats,
  registerWebgpuKernels,
  unregisterWebgpuKernels,
  WEBGPU_KERNEL_NAMES,
  type WebgpuKernelName,
  type WebgpuKernelOptions,
  webgpuKernelStats,
  webgpuKernelsFromEnv,
} from './register.js';
export { DEFAULT_TILES, type TileConfig } from './schedule.js';
