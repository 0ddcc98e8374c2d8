import * as tf from '@tensorflow/tfjs';
import { batchNormGradConfig, fusedBatchNormGradient } from './batch-norm-grad.js';
import { channelBroadcastKernel } from './channel-affine.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { fusedBatchNormKernel } from './fused-batch-norm.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { broadcastReducedConfig, reductionGradient } from './mean-grad.js';
import { poolingReduction } from './reduce.js';
import { requestedWasmThreads, useThreadedWasm } from './wasm-threads.js';
import { zeroCopyKernels } from './zero-copy.js';

/**
 * Kernels resdet adds to (or replaces in) tfjs-backend-wasm so that training runs there:
 * Conv2DBackpropFilter is missing from the package, Conv2DBackpropInput is a scalar loop, MaxPoolGrad
 * is wrong on non-square inputs, FusedBatchNorm's generic gradient spends most of its time in Tile.
 * Registered through TF.js's public kernel registry; nothing in node_modules is touched.
 */
export const wasmTrainingKernels: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  batchNormGradConfig,
  maxPoolGradConfig,
  broadcastReducedConfig,
];

const registered = new Set<string>();
const wrappedKernels: tf.KernelConfig[] = [];

/**
 * Registers the kernels above for the wasm backend. Safe to call any number of times. Imports
 * tfjs-backend-wasm first: the package registers its own kernels when loaded, and a later
 * registration of the same name replaces an earlier one.
 */
export async function registerTrainingKernels(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (wrappedKernels.length === 0) {
    // Wrappers around the package's own kernels: built once, from the originals.
    const batchNorm = tf.getKernel('FusedBatchNorm', 'wasm');
    if (batchNorm) wrappedKernels.push(fusedBatchNormKernel(batchNorm));
    wrappedKernels.push(...zeroCopyKernels());
    for (const [name, mean] of [
      ['Mean', true],
      ['Sum', false],
    ] as const) {
      const original = tf.getKernel(name, 'wasm');
      if (original) wrappedKernels.push(poolingReduction(original, mean));
    }
    for (const name of ['Multiply', 'Add', 'Sub']) {
      const original = tf.getKernel(name, 'wasm');
      if (original) wrappedKernels.push(channelBroadcastKernel(original));
    }
  }
  for (const config of [...wasmTrainingKernels, ...wrappedKernels]) {
    const key = `${config.backendName}/${config.kernelName}`;
    if (registered.has(key)) continue;
    if (tf.getKernel(config.kernelName, config.backendName)) {
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    tf.registerKernel(config);
    registered.add(key);
  }
  if (!gradientsWrapped) {
    const original = tf.getGradient('FusedBatchNorm');
    if (original) tf.registerGradient(fusedBatchNormGradient(original));
    const mean = tf.getGradient('Mean');
    if (mean) tf.registerGradient(reductionGradient(mean, true));
    const sum = tf.getGradient('Sum');
    if (sum) tf.registerGradient(reductionGradient(sum, false));
    gradientsWrapped = true;
  }
}

let gradientsWrapped = false;

/**
 * Everything resdet changes about the wasm backend, called by core/backend.ts before the backend
 * is first initialised: the training kernels above, and the threaded build when more than one
 * thread is asked for (`threads`, else RESDET_WASM_THREADS). Returns the thread count in force:
 * it is fixed by the first call, as the wasm module is instantiated once per process.
 */
export async function prepareWasmBackend(threads = requestedWasmThreads()): Promise<number> {
  if (preparedThreads !== undefined) return preparedThreads;
  await registerTrainingKernels();
  const threaded = threads > 1 && (await useThreadedWasm(threads));
  preparedThreads = threaded ? threads : 1;
  return preparedThreads;
}

let preparedThreads: number | undefined;
