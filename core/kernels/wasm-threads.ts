import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MAX_WASM_THREADS } from './wasm-thread-limit.js';

/**
 * Multithreaded XNNPACK for tfjs-backend-wasm under Node.
 *
 * The package ships a threaded SIMD build but never uses it in Node: its WASM_HAS_MULTITHREAD_SUPPORT
 * flag is hard-wired to false there (tfjs issue 3830), and its loader hands Emscripten blob: URLs,
 * which Node's worker_threads cannot start. Node 20 runs the threaded build fine when given file
 * paths, so this registers a `wasm` backend factory that instantiates that build itself: the
 * pthread worker script (shipped as a string in the package) goes to a temporary .cjs file, the
 * main script is the package's own file. The backend object is the package's BackendWasm, so all
 * kernels work unchanged.
 *
 * The C++ side sizes its thread pool as min(requested, logical cores / 2) (it assumes two
 * hyper-threads per core); `emscripten_num_logical_cores` is answered with 2 x the requested
 * count so the request is honoured.
 */

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  tfjs?: Record<string, unknown>;
}
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

let workerFile: string | undefined;

function writeWorkerScript(source: string): string {
  if (workerFile) return workerFile;
  const file = join(tmpdir(), `resdet-wasm-pthread-${process.pid}.cjs`);
  // The package keeps the script in a template literal whose \n escapes became real newlines
  // inside string literals; the package's own loader re-escapes them the same way.
  writeFileSync(file, source.replace(/\n/g, '\\n'));
  process.once('exit', () => {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  });
  workerFile = file;
  return file;
}

/**
 * Replaces the registered `wasm` backend factory with one on the threaded SIMD build using
 * `threads` threads. Call before the wasm backend is first initialised (tf.setBackend('wasm')).
 * Returns false (changing nothing) when the threaded build cannot be used here.
 */
export async function useThreadedWasm(threads: number): Promise<boolean> {
  if (threads < 2 || typeof SharedArrayBuffer === 'undefined') return false;
  const wasmPkg = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const factoryPath = require.resolve(
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js',
  );
  const factory = require(factoryPath) as Factory;
  const { wasmWorkerContents } =
    require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
      wasmWorkerContents: string;
    };
  const wasmFile = join(dirname(factoryPath), 'tfjs-backend-wasm-threaded-simd.wasm');
  const worker = writeWorkerScript(wasmWorkerContents);
  wasmPkg.setThreadsCount(threads);
  const create = async () => {
    // The package's loader evaluates these flags while loading; resdet's backend report reads them.
    await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    const module = await factory({
      locateFile: (path: string, prefix: string) =>
        path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? wasmFile : prefix + path,
      mainScriptUrlOrBlob: factoryPath,
      instantiateWasm: (
        imports: { env: Record<string, unknown> },
        receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) => {
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        WebAssembly.instantiate(readFileSync(wasmFile), imports as WebAssembly.Imports).then((r) =>
          receive(r.instance, r.module),
        );
        return {};
      },
    });
    // The bridge the package's own loader sets up (backend_wasm.ts init()).
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    return new wasmPkg.BackendWasm(module as never);
  };
  tf.removeBackend('wasm');
  // Priority 2, as the package registers it.
  tf.registerBackend('wasm', create, 2);
  return true;
}

export { MAX_WASM_THREADS };

/** Threads asked for by RESDET_WASM_THREADS (default 1: the package's own single-threaded build). */
export function requestedWasmThreads(): number {
  const raw = process.env.RESDET_WASM_THREADS;
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new Error(`RESDET_WASM_THREADS: expected an integer from 1 to ${MAX_WASM_THREADS}, got "${raw}"`);
  }
  return n;
}
