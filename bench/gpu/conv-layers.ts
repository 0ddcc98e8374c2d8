import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { ConvParams } from '../../core/conv-params.js';
import { webgpuKernelStats } from '../../core/webgpu/register.js';
import { parseBackend, parseKernels, positiveInt, printLine, seededValues, setupBackend } from './common.js';
import { resnet50Convs } from './resnet50-convs.js';

/**
 * Per-layer timings of ResNet-50's convolutions (the issue's table): forward, forward + input
 * gradient, forward + filter gradient, each as wall time per iteration (synchronised by reading
 * back one scalar) and, where the adapter has timestamp queries, GPU kernel time from tf.time.
 *
 *   node .gpu/app/conv-layers.mjs --backend webgpu --kernels tfjs --json
 *   node .gpu/app/conv-layers.mjs --backend webgpu --kernels resdet --json
 */

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    kernels: { type: 'string', default: 'tfjs' },
    batch: { type: 'string', default: '64' },
    input: { type: 'string', default: '224' },
    only: { type: 'string', default: '' },
    iterations: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

const backend = parseBackend(values.backend);
const kernels = parseKernels(values.kernels);
const batch = positiveInt('batch', values.batch);
const input = positiveInt('input', values.input);
const iterations = positiveInt('iterations', values.iterations);
const warmup = Number(values.warmup);
await setupBackend(backend, kernels);

type Mode = 'forward' | 'forward+input-grad' | 'forward+filter-grad';

function step(mode: Mode, p: ConvParams, x: tf.Tensor4D, w: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const conv = (xx: tf.Tensor4D, ww: tf.Tensor4D) =>
      tf.conv2d(xx, ww, [p.strideHeight, p.strideWidth], p.padTop === 0 ? 'valid' : p.padTop);
    if (mode === 'forward') return tf.sum(conv(x, w));
    // d/dx or d/dW of sum(conv): the backward kernel gets an all-ones dy, the cost is the same.
    const g =
      mode === 'forward+input-grad'
        ? tf.grad((xx: tf.Tensor) => tf.sum(conv(xx as tf.Tensor4D, w)))(x)
        : tf.grad((ww: tf.Tensor) => tf.sum(conv(x, ww as tf.Tensor4D)))(w);
    return tf.sum(g);
  });
}

for (const { name, params: p } of resnet50Convs(batch, input).filter((c) => c.name.includes(values.only))) {
  const x = tf.tensor4d(seededValues(p.batch * p.inHeight * p.inWidth * p.inChannels, 1), [
    p.batch,
    p.inHeight,
    p.inWidth,
    p.inChannels,
  ]);
  const w = tf.tensor4d(
    seededValues(p.filterHeight * p.filterWidth * p.inChannels * p.outChannels, 2).map((v) => v * 0.05),
    [p.filterHeight, p.filterWidth, p.inChannels, p.outChannels],
  );
  const flops =
    2 * p.batch * p.outHeight * p.outWidth * p.outChannels * p.filterHeight * p.filterWidth * p.inChannels;
  for (const mode of ['forward', 'forward+input-grad', 'forward+filter-grad'] as const) {
    if (mode === 'forward+input-grad' && p.inChannels === 3) continue; // the stem's input needs no gradient
    const run = async () => {
      const s = step(mode, p, x, w);
      await s.data();
      s.dispose();
    };
    for (let i = 0; i < warmup; i++) await run();
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await run();
    const ms = (performance.now() - start) / iterations;
    const timing = await tf.time(() => {
      step(mode, p, x, w).dispose();
    });
    const kernelMs = typeof timing.kernelMs === 'number' ? timing.kernelMs : null;
    const passes = mode === 'forward' ? 1 : 2;
    printLine(
      values.json,
      {
        layer: name,
        mode,
        batch,
        input,
        backend,
        kernels,
        ms_per_iter: Number(ms.toFixed(2)),
        kernel_ms: kernelMs === null ? null : Number(kernelMs.toFixed(2)),
        tflop_per_s: Number(((passes * flops) / (ms * 1e9)).toFixed(2)),
      },
      `${name.padEnd(36)} ${mode.padEnd(20)} ${ms.toFixed(2).padStart(9)} ms  ${((passes * flops) / (ms * 1e9)).toFixed(2)} TFLOP/s` +
        (kernelMs === null ? '' : `  (kernels ${kernelMs.toFixed(2)} ms)`),
    );
  }
  x.dispose();
  w.dispose();
}
if (kernels === 'resdet') {
  const s = webgpuKernelStats();
  process.stderr.write(`resdet kernels ran: filter ${s.filter}, input ${s.input}, fallback ${s.fallback}\n`);
}
process.exit(0);
