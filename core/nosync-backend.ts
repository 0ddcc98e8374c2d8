import * as tf from '@tensorflow/tfjs';
import { registerRoiKernels } from './roi/register.js';

/**
 * `nosync-cpu`: the cpu backend with synchronous reads forbidden. `dataSync()`, `arraySync()`,
 * `bufferSync()` and anything else that reaches the backend's `readSync` from outside a kernel
 * throw; `await t.data()` works. WebGPU cannot read synchronously in Node, so code that runs here
 * runs there as far as reads go: the test suite runs every job on it. Kernels are the cpu
 * backend's own (and resdet's), delegated, so results equal `cpu`'s. Never chosen by `auto`.
 */
export const NOSYNC_BACKEND = 'nosync-cpu';

export class SyncReadError extends Error {
  constructor() {
    super(
      `synchronous read (dataSync/arraySync/bufferSync) on the ${NOSYNC_BACKEND} backend: ` +
        'WebGPU cannot read synchronously in Node; use `await tensor.data()` (batched: stack and read once)',
    );
    this.name = 'SyncReadError';
  }
}

type DataId = object;

interface ReadingBackend extends tf.KernelBackend {
  readSync(dataId: DataId): tf.backend_util.BackendValues;
}

let kernelDepth = 0;

function inKernel<T>(fn: () => T): T {
  kernelDepth++;
  try {
    return fn();
  } finally {
    kernelDepth--;
  }
}

/** Registers the backend (once): call before `tf.setBackend(NOSYNC_BACKEND)`. */
export function registerNoSyncBackend(): void {
  if (tf.findBackendFactory(NOSYNC_BACKEND)) return;
  registerRoiKernels();
  const cpu = tf.findBackend('cpu');
  if (!cpu) throw new Error(`${NOSYNC_BACKEND}: the cpu backend is not registered`);
  const Cpu = cpu.constructor as new () => ReadingBackend;
  class NoSyncCpu extends Cpu {
    override readSync(dataId: DataId): tf.backend_util.BackendValues {
      // The cpu kernels read their inputs through readSync; only reads from outside are banned.
      if (kernelDepth === 0) throw new SyncReadError();
      return super.readSync(dataId);
    }

    override async read(dataId: DataId): Promise<tf.backend_util.BackendValues> {
      return inKernel(() => super.readSync(dataId));
    }
  }
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    tf.registerKernel({
      ...kernel,
      backendName: NOSYNC_BACKEND,
      kernelFunc: (args) => inKernel(() => kernel.kernelFunc(args)),
    });
  }
  // Priority below every real backend: TF.js never picks it by itself.
  tf.registerBackend(NOSYNC_BACKEND, () => new NoSyncCpu(), -1);
}
