import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ResdetError, UsageError } from './errors.js';
import { NOSYNC_BACKEND, registerNoSyncBackend } from './nosync-backend.js';
import { registerWebgpuKernels, webgpuKernelsFromEnv } from './webgpu/register.js';

/**
 * Which TF.js backend runs the models. The only process-wide state resdet has: every model is
 * backend-agnostic and runs on whatever was chosen here.
 */

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu' | 'nosync-cpu';
export type BackendChoice = BackendName | 'auto';

/** Order `auto` tries them in: fastest first. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Backends only chosen by name: `nosync-cpu` (core/nosync-backend.ts) checks code for synchronous reads. */
export const CHECKING_BACKENDS: readonly BackendName[] = ['nosync-cpu'];

export interface BackendStatus {
  available: boolean;
  /** Why it is (package, device) or is not (what failed, what to do) available. */
  reason: string;
}

export type BackendReport = Record<BackendName, BackendStatus>;

export function isBackendChoice(value: string): value is BackendChoice {
  return (
    value === 'auto' ||
    (BACKEND_ORDER as readonly string[]).includes(value) ||
    (CHECKING_BACKENDS as readonly string[]).includes(value)
  );
}

/** The backend asked for by flag, else RESDET_BACKEND, else auto. */
export function requestedBackend(flag?: string): BackendChoice {
  const value = (flag ?? process.env.RESDET_BACKEND ?? 'auto').trim().toLowerCase();
  if (!isBackendChoice(value)) {
    const source = flag !== undefined ? '--backend' : 'RESDET_BACKEND';
    throw new UsageError(
      `${source}: unknown backend "${value}"`,
      `choose one of: auto, ${BACKEND_ORDER.join(', ')}`,
    );
  }
  return value;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}

// Module names go through a variable so TypeScript does not need the optional packages' types.
async function importOptional(name: string): Promise<unknown> {
  return import(name);
}

async function loadTensorflow(): Promise<BackendStatus> {
  const problems: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await importOptional(pkg);
      if (tf.findBackendFactory('tensorflow')) {
        return { available: true, reason: `${pkg} loaded (native libtensorflow)` };
      }
      problems.push(`${pkg} loaded but registered no backend`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        problems.push(`${pkg} is not installed`);
      } else {
        problems.push(`${pkg} failed to load: ${firstLine(err)}`);
      }
    }
  }
  return {
    available: false,
    reason:
      `${problems.join('; ')} (optional dependencies: their install downloads libtensorflow, ` +
      'which needs internet access; once online, `npm install @tensorflow/tfjs-node` (or -node-gpu) brings it)',
  };
}

interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>;
}
interface AdapterLike {
  features: ReadonlySet<string>;
  info?: unknown;
  requestAdapterInfo?: () => Promise<unknown>;
  requestDevice(descriptor?: { requiredFeatures?: unknown[] }): Promise<unknown>;
}

/**
 * tfjs-backend-webgpu 4.22 expects a browser: it reads navigator.gpu at import time, asks for
 * `bgra8unorm-storage` in a form Dawn rejects, and calls the removed requestAdapterInfo(). This
 * wraps Dawn's GPU object so the backend sees what it expects.
 */
export function wrapGpuForTfjs(gpu: GpuLike): GpuLike {
  return {
    async requestAdapter(options?: unknown) {
      const adapter = await gpu.requestAdapter(options);
      if (!adapter) return null;
      const features = new Set([...adapter.features].filter((f) => f !== 'bgra8unorm-storage'));
      return {
        features,
        info: adapter.info,
        limits: (adapter as unknown as { limits: unknown }).limits,
        isFallbackAdapter: false,
        requestAdapterInfo: async () => adapter.info ?? {},
        requestDevice: (descriptor?: { requiredFeatures?: unknown[] }) => {
          const required = (descriptor?.requiredFeatures ?? [])
            .flat()
            .filter((f) => f !== 'bgra8unorm-storage');
          return adapter.requestDevice({ ...descriptor, requiredFeatures: required });
        },
      } as AdapterLike;
    },
  };
}

/**
 * Dawn prints its own warning to stderr when it cannot dlopen the Vulkan loader; looking for the
 * library first keeps `auto`'s fallback to the promised single line.
 */
function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/**
 * RESDET_WEBGPU_ADAPTER=null: Dawn's null adapter, which compiles and validates every shader,
 * pipeline and dispatch but runs nothing (results are garbage). For proving the whole webgpu path
 * of a job on a machine without a GPU (the test suite does); never chosen unless asked for.
 */
function nullAdapterRequested(): boolean {
  return (process.env.RESDET_WEBGPU_ADAPTER ?? '').trim().toLowerCase() === 'null';
}

let nullAdapterActive = false;

/**
 * False while the backend is webgpu on the null adapter, whose results are garbage: the checks
 * that stop a job on non-finite values (training divergence) let it go on there, so a job runs
 * through every code path to the end.
 */
export function backendComputesValues(): boolean {
  return !(nullAdapterActive && tf.getBackend() === 'webgpu');
}

async function loadWebgpu(): Promise<BackendStatus> {
  const nullAdapter = nullAdapterRequested();
  if (!nullAdapter && !vulkanLoaderFound()) {
    return {
      available: false,
      reason: 'no Vulkan loader (libvulkan.so.1 not found): WebGPU on Dawn needs a GPU with a Vulkan driver',
    };
  }
  let webgpu: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
  try {
    webgpu = (await importOptional('webgpu')) as typeof webgpu;
  } catch (err) {
    return { available: false, reason: `the webgpu package (Dawn) failed to load: ${firstLine(err)}` };
  }
  let gpu: GpuLike;
  let adapter: AdapterLike | null;
  try {
    Object.assign(globalThis, webgpu.globals);
    gpu = webgpu.create(nullAdapter ? ['backend=null'] : []);
    adapter = await gpu.requestAdapter();
  } catch (err) {
    return { available: false, reason: `Dawn could not start: ${firstLine(err)}` };
  }
  if (!adapter) {
    return {
      available: false,
      reason: 'no WebGPU adapter: Dawn found no usable Vulkan driver (needs a GPU with a Vulkan driver)',
    };
  }
  try {
    const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
    const shim = wrapGpuForTfjs(gpu);
    if (nav) Object.defineProperty(nav, 'gpu', { value: shim, configurable: true });
    else (globalThis as { navigator?: unknown }).navigator = { gpu: shim, userAgent: 'node' };
    // A literal specifier: bundlers (../shared/gpu/prepare.sh) then carry the backend inside the bundle.
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu')))
      return { available: false, reason: 'tfjs-backend-webgpu failed to initialise' };
    await tf.ready();
    // resdet's own WGSL kernels only when asked for (core/webgpu/register.ts).
    const ours = webgpuKernelsFromEnv();
    if (ours.length > 0) registerWebgpuKernels({ kernels: ours });
    const info = adapter.info as { vendor?: string; description?: string; device?: string } | undefined;
    const name = [info?.vendor, info?.description || info?.device].filter(Boolean).join(' ');
    if (nullAdapter) {
      nullAdapterActive = true;
      return {
        available: true,
        reason: "WebGPU on Dawn's null adapter (RESDET_WEBGPU_ADAPTER=null: validates, runs nothing)",
      };
    }
    return { available: true, reason: `WebGPU on Dawn${name ? `: ${name}` : ''}` };
  } catch (err) {
    return { available: false, reason: `tfjs-backend-webgpu failed: ${firstLine(err)}` };
  }
}

async function loadWasm(): Promise<BackendStatus> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    await (await import('./kernels/index.js')).prepareWasmBackend();
    if (!(await tf.setBackend('wasm')))
      return { available: false, reason: 'tfjs-backend-wasm failed to initialise' };
    await tf.ready();
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    return {
      available: true,
      reason: `WebAssembly CPU kernels (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})`,
    };
  } catch (err) {
    return { available: false, reason: `tfjs-backend-wasm failed: ${firstLine(err)}` };
  }
}

async function loadCpu(): Promise<BackendStatus> {
  // The cpu backend greets its first tensor in Node with a banner recommending tfjs-node; resdet's
  // own backend notice already says what is missing and why, so the banner only adds noise.
  // (PROD only silences tfjs's console messages in 4.x.)
  tf.env().set('PROD', true);
  if (!(await tf.setBackend('cpu')))
    return { available: false, reason: 'the cpu backend failed to initialise' };
  return { available: true, reason: 'plain JavaScript kernels (always there, slow)' };
}

async function loadNoSyncCpu(): Promise<BackendStatus> {
  tf.env().set('PROD', true);
  registerNoSyncBackend();
  if (!(await tf.setBackend(NOSYNC_BACKEND)))
    return { available: false, reason: `the ${NOSYNC_BACKEND} backend failed to initialise` };
  return { available: true, reason: 'the cpu kernels with synchronous reads forbidden (a checking backend)' };
}

const loaders: Record<BackendName, () => Promise<BackendStatus>> = {
  tensorflow: loadTensorflow,
  webgpu: loadWebgpu,
  wasm: loadWasm,
  cpu: loadCpu,
  'nosync-cpu': loadNoSyncCpu,
};

const statusCache = new Map<BackendName, BackendStatus>();

/** Loads (once) and reports one backend; leaves it as TF.js's current backend when available. */
export async function probeBackend(name: BackendName): Promise<BackendStatus> {
  const cached = statusCache.get(name);
  if (cached) {
    if (cached.available) await tf.setBackend(name);
    return cached;
  }
  const status = await loaders[name]();
  if (status.available && name === 'tensorflow') await tf.setBackend('tensorflow');
  statusCache.set(name, status);
  return status;
}

export interface BackendSelection {
  backend: BackendName;
  report: Partial<BackendReport>;
}

let selected: BackendName | undefined;

/** The backend chosen by `initBackend`, or undefined before it ran. */
export function currentBackend(): BackendName | undefined {
  return selected;
}

export interface InitBackendOptions {
  /** Where the one-line fallback notice goes; default stderr. */
  notice?: (line: string) => void;
  /** Probe every backend (for `resdet info`), not just until one loads. */
  probeAll?: boolean;
}

/**
 * Chooses and initialises the backend. `auto` takes the first of tensorflow, webgpu, wasm, cpu that
 * loads and says in one line which were skipped and why; an explicit choice that cannot load is
 * an error naming the reason and the alternatives.
 */
export async function initBackend(
  choice: BackendChoice = requestedBackend(),
  opts: InitBackendOptions = {},
): Promise<BackendSelection> {
  const notice = opts.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const report: Partial<BackendReport> = {};
  let chosen: BackendName | undefined;
  if (choice === 'auto') {
    const skipped: string[] = [];
    for (const name of BACKEND_ORDER) {
      const status = await probeBackend(name);
      report[name] = status;
      if (status.available) {
        chosen = name;
        break;
      }
      skipped.push(`${name} (${status.reason})`);
    }
    if (!chosen) throw new ResdetError('no TF.js backend could be loaded', 'reinstall with `npm ci`');
    if (skipped.length > 0 && !opts.probeAll)
      notice(`resdet: using ${chosen}; unavailable: ${skipped.join('; ')}`);
  } else {
    const status = await probeBackend(choice);
    report[choice] = status;
    if (!status.available) {
      const others: string[] = [];
      for (const name of BACKEND_ORDER) {
        if (name === choice) continue;
        const s = await probeBackend(name);
        report[name] = s;
        if (s.available) others.push(name);
      }
      throw new ResdetError(
        `backend "${choice}" is not available: ${status.reason}`,
        `available here: ${others.join(', ') || 'none'} (or --backend auto)`,
      );
    }
    chosen = choice;
  }
  if (opts.probeAll) {
    for (const name of BACKEND_ORDER) if (!report[name]) report[name] = await probeBackend(name);
  }
  await tf.setBackend(chosen);
  await tf.ready();
  selected = chosen;
  return { backend: chosen, report };
}
