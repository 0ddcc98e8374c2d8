import * as tf from '@tensorflow/tfjs';

/** Time per kernel name over one profiled call (TF.js's tf.profile; wasm kernels run synchronously). */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  /** Share of the summed kernel time. */
  share: number;
}

export async function profileKernels(
  run: () => Promise<void>,
): Promise<{ totalMs: number; kernels: KernelTime[] }> {
  const info = await tf.profile(async () => {
    await run();
  });
  const byName = new Map<string, { calls: number; ms: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += ms;
    const e = byName.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms;
    byName.set(k.name, e);
  }
  const kernels = [...byName]
    .map(([kernel, e]) => ({
      kernel,
      calls: e.calls,
      ms: Number(e.ms.toFixed(1)),
      share: total ? e.ms / total : 0,
    }))
    .sort((a, b) => b.ms - a.ms);
  return { totalMs: Number(total.toFixed(1)), kernels };
}
