import type * as tf from '@tensorflow/tfjs';
import { type BackendName, initBackend, isBackendChoice } from '../../core/backend.js';
import { initNullWebgpu } from '../../core/webgpu/null-backend.js';
import { registerWebgpuKernels } from '../../core/webgpu/register.js';

/**
 * Shared by the GPU bench entries (suite.ts, conv-layers.ts, kernel-check.ts). Each entry is one
 * file with static imports only, so ../shared/gpu/prepare.sh bundles it whole.
 */

/** `webgpu-null`: tfjs-backend-webgpu on Dawn's null adapter (compiles and validates, runs nothing). */
export type BenchBackend = BackendName | 'webgpu-null';

export type KernelChoice = 'tfjs' | 'resdet';

export interface BenchSetup {
  backend: BenchBackend;
  kernels: KernelChoice;
}

export function parseBackend(value: string): BenchBackend {
  if (value === 'webgpu-null') return value;
  if (!isBackendChoice(value) || value === 'auto') {
    throw new Error(`--backend: expected tensorflow, webgpu, webgpu-null, wasm or cpu, got "${value}"`);
  }
  return value;
}

export function parseKernels(value: string): KernelChoice {
  if (value !== 'tfjs' && value !== 'resdet')
    throw new Error(`--kernels: expected tfjs or resdet, got "${value}"`);
  return value;
}

/** Starts the backend and, on webgpu with `--kernels resdet`, registers resdet's kernels. */
export async function setupBackend(backend: BenchBackend, kernels: KernelChoice): Promise<BenchSetup> {
  if (backend === 'webgpu-null') await initNullWebgpu();
  else await initBackend(backend, { notice: (line) => process.stderr.write(`${line}\n`) });
  const onWebgpu = backend === 'webgpu' || backend === 'webgpu-null';
  if (kernels === 'resdet') {
    if (!onWebgpu) throw new Error('--kernels resdet needs --backend webgpu (or webgpu-null)');
    registerWebgpuKernels();
  }
  return { backend, kernels };
}

export function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name}: expected a positive integer, got "${value}"`);
  return n;
}

export function intList(name: string, value: string): number[] {
  return value.split(',').map((v) => positiveInt(name, v.trim()));
}

/** Waits until the backend has finished everything queued so far (reads one value back). */
export async function sync(t: tf.Tensor): Promise<void> {
  await t.data();
}

/**
 * Runs `step` `warmup` times untimed (shader compilation, allocation), then `iterations` times,
 * waiting for the device after each; returns milliseconds per iteration.
 */
export async function timeSteps(
  step: () => Promise<void>,
  warmup: number,
  iterations: number,
): Promise<number> {
  for (let i = 0; i < warmup; i++) await step();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await step();
  return (performance.now() - start) / iterations;
}

export { seededValues } from '../../core/rng.js';

export function printLine(json: boolean, record: Record<string, unknown>, text: string): void {
  process.stdout.write(`${json ? JSON.stringify(record) : text}\n`);
}

/** One timed case of the suite or detector entry. */
export interface BenchCase {
  arch: string;
  /** Pixels per side (classifier) or "HxW" (detector). */
  input: number | string;
  batch: number;
  backend: BenchBackend;
  case: string;
  kernels: KernelChoice;
  iterations: number;
}

/** Prints a case as the runbook's JSON record, {"arch",...,"img_per_s","ms_per_iter","iterations"}, or a line. */
export function reportCase(json: boolean, c: BenchCase, ms: number): void {
  const record = {
    arch: c.arch,
    input: c.input,
    batch: c.batch,
    backend: c.backend,
    case: c.case,
    kernels: c.kernels,
    img_per_s: Number(((c.batch * 1000) / ms).toFixed(2)),
    ms_per_iter: Number(ms.toFixed(2)),
    iterations: c.iterations,
  };
  const size = typeof c.input === 'number' ? `${c.input}px` : c.input;
  printLine(
    json,
    record,
    `${c.arch} ${c.case} ${size} batch ${c.batch} on ${c.backend} (${c.kernels} kernels): ${record.img_per_s} img/s, ${record.ms_per_iter} ms/iter`,
  );
}
