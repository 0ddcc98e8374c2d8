/**
 * ResNet-50 forward pass at 224 x 224, batch 1, inference (BN folded into the convs, fused
 * conv + bias + ReLU), on one backend (default wasm). Prints one JSON object.
 *
 *   npx tsx bench/resnet50-forward.ts [--backend wasm] [--runs 10] [--warmup 2] [--arch resnet50] [--batch 1]
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { buildResNet, resnetConfig } from '../backbone/index.js';
import { type BackendChoice, initBackend } from '../core/backend.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const backendChoice = arg('backend', 'wasm') as BackendChoice;
const runs = Number(arg('runs', '10'));
const warmup = Number(arg('warmup', '2'));
const arch = arg('arch', 'resnet50');
const batch = Number(arg('batch', '1'));
const size = Number(arg('size', '224'));

const { backend } = await initBackend(backendChoice, { notice: () => {} });
const model = buildResNet(resnetConfig(arch));
const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;

async function once(): Promise<number> {
  const t0 = performance.now();
  const y = model.forward(x, false);
  await y.data();
  y.dispose();
  return performance.now() - t0;
}

for (let i = 0; i < warmup; i++) await once();
// After warm-up the model holds its variables and its cache of BN-folded conv weights.
const tensorsBefore = tf.memory().numTensors;
const times: number[] = [];
// CPU time of this process per run: on a shared, busy machine it estimates the uncontended
// single-threaded time better than the wall clock does.
const cpu0 = process.cpuUsage();
for (let i = 0; i < runs; i++) times.push(await once());
const cpu = process.cpuUsage(cpu0);
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const threads =
  backend === 'wasm' ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : undefined;
console.log(
  JSON.stringify({
    bench: 'resnet-forward',
    arch,
    backend,
    threads,
    batch,
    input: size,
    runs,
    median_ms: Number(median.toFixed(1)),
    min_ms: Number(times[0].toFixed(1)),
    max_ms: Number(times[times.length - 1].toFixed(1)),
    cpu_ms_per_run: Number(((cpu.user + cpu.system) / 1000 / runs).toFixed(1)),
    load_avg_1m: Number(loadavg()[0].toFixed(2)),
    images_per_s: Number(((1000 * batch) / median).toFixed(2)),
    leaked_tensors: tf.memory().numTensors - tensorsBefore,
  }),
);
x.dispose();
model.dispose();
