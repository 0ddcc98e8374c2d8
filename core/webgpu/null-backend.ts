import * as tf from '@tensorflow/tfjs';
import { wrapGpuForTfjs } from '../backend.js';
import { createDawnGpu } from './dawn.js';

/**
 * tfjs-backend-webgpu on Dawn's null adapter: every shader is compiled and every pipeline, bind
 * group and dispatch validated, but nothing executes (results are garbage). It runs the whole
 * kernel-registration path on machines without a GPU; numbers are checked on a real one.
 */
export async function initNullWebgpu(): Promise<void> {
  const gpu = await createDawnGpu(['backend=null']);
  const shim = wrapGpuForTfjs(gpu as Parameters<typeof wrapGpuForTfjs>[0]);
  const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: shim, configurable: true });
  else (globalThis as { navigator?: unknown }).navigator = { gpu: shim, userAgent: 'node' };
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu')))
    throw new Error("tfjs-backend-webgpu did not start on Dawn's null adapter");
  await tf.ready();
}

/** The device tfjs-backend-webgpu holds (a public member of its WebGPUBackend). */
export interface ErrorScopeDevice {
  pushErrorScope(filter: 'validation'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

export function webgpuDevice(): ErrorScopeDevice {
  const device = (tf.backend() as unknown as { device?: ErrorScopeDevice }).device;
  if (!device || typeof device.pushErrorScope !== 'function')
    throw new Error('the current backend is not webgpu');
  return device;
}

/**
 * Counts WebGPU errors no error scope caught (Dawn also prints them): a validation error in a
 * kernel's pipeline or bind group shows up here even where the results cannot be checked.
 */
export function countUncapturedErrors(): { count(): number; messages: string[] } {
  const device = tf.backend() as unknown as {
    device?: {
      addEventListener?(type: string, listener: (e: { error?: { message?: string } }) => void): void;
    };
  };
  const messages: string[] = [];
  const target = device.device;
  if (!target?.addEventListener) throw new Error('the current backend is not webgpu');
  target.addEventListener('uncapturederror', (e) => {
    messages.push((e.error?.message ?? 'unknown error').split('\n')[0]);
  });
  return { count: () => messages.length, messages };
}
