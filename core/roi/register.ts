import * as tf from '@tensorflow/tfjs';
import { roiWebgpuKernels } from '../webgpu/roi.js';
import { roiGradients, roiTypedArrayKernels } from './kernels.js';

let registered = false;

/**
 * Registers the RoI kernels for cpu, wasm and webgpu and their gradients (once; the registry is
 * keyed by backend name, so this may run before any backend is loaded).
 */
export function registerRoiKernels(): void {
  if (registered) return;
  for (const config of [...roiTypedArrayKernels, ...roiWebgpuKernels]) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  for (const grad of roiGradients) if (!tf.getGradient(grad.kernelName)) tf.registerGradient(grad);
  registered = true;
}
