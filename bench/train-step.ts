import * as tf from '@tensorflow/tfjs';
import { buildResNet, type ResNet, resnetConfig } from '../backbone/index.js';
import { trainableParams } from '../backbone/params.js';
import { CIFAR_RECIPE } from '../backbone/pretrain/recipes.js';
import { gradsByParam, Sgd, uniformDecay } from '../core/train/sgd.js';
import { currentBackend } from '../core/backend.js';
import { type KernelTime, profileKernels } from './kernel-profile.js';

/**
 * Training-step and forward-pass throughput of the backbone's ResNets on the current backend:
 * what `resdet bench train` and `resdet bench forward` print. A training step is exactly what the
 * trainers run: forward in training mode (batch statistics), softmax cross-entropy,
 * optimizer.minimize (SGD with momentum) over the trainable variables.
 */

export interface BenchOptions {
  arch: string;
  /** Input side in pixels (square inputs). */
  input: number;
  batch: number;
  /** Image channels: 3 (RGB) or 1 (e.g. Fashion-MNIST). */
  channels: number;
  /** Timed iterations (the median is reported) after `warmup` untimed ones. */
  iterations: number;
  warmup: number;
}

export interface BenchResult {
  arch: string;
  input: number;
  batch: number;
  backend: string;
  img_per_s: number;
  ms_per_iter: number;
  channels: number;
  iterations: number;
  /** This process's CPU time per iteration (median): on a shared machine, wall time also counts others' load. */
  cpu_ms_per_iter: number;
  /** wasm only: XNNPACK threads. */
  threads?: number;
}

function buildModel(o: BenchOptions): ResNet {
  const spec = resnetConfig(o.arch);
  return buildResNet(resnetConfig(o.arch, { inChannels: o.channels, numClasses: spec.numClasses }));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function wasmThreads(): Promise<number | undefined> {
  if (currentBackend() !== 'wasm' && tf.getBackend() !== 'wasm') return undefined;
  return (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
}

async function timeIterations(
  o: BenchOptions,
  run: () => Promise<void>,
): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < o.warmup; i++) await run();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < o.iterations; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

async function result(o: BenchOptions, t: { wall: number; cpu: number }): Promise<BenchResult> {
  return {
    arch: o.arch,
    input: o.input,
    batch: o.batch,
    backend: tf.getBackend(),
    img_per_s: Number(((1000 * o.batch) / t.wall).toFixed(2)),
    ms_per_iter: Number(t.wall.toFixed(1)),
    channels: o.channels,
    iterations: o.iterations,
    cpu_ms_per_iter: Number(t.cpu.toFixed(1)),
    threads: await wasmThreads(),
  };
}

/** Inputs and labels for one batch (fixed, so every iteration does the same work). */
function batchData(o: BenchOptions, classes: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomNormal([o.batch, o.input, o.input, o.channels], 0, 1, 'float32', 1) as tf.Tensor4D,
    y: tf.oneHot(
      tf.tensor1d(
        Array.from({ length: o.batch }, (_, i) => i % classes),
        'int32',
      ),
      classes,
    ) as tf.Tensor2D,
  }));
}

/** The optimizer pretraining uses, over `model`'s trainable parameters. */
function pretrainOptimizer(model: ResNet): { sgd: Sgd; params: ReturnType<typeof trainableParams> } {
  const params = trainableParams(model.params.all());
  const sgd = new Sgd(params, {
    momentum: CIFAR_RECIPE.momentum,
    weightDecay: uniformDecay(CIFAR_RECIPE.weightDecay),
  });
  return { sgd, params };
}

/** A training step closure for `model` (caller disposes model, data and optimizer). */
export function trainStep(
  model: ResNet,
  data: { x: tf.Tensor4D; y: tf.Tensor2D },
  optimizer: { sgd: Sgd; params: ReturnType<typeof trainableParams> },
): () => Promise<void> {
  const vars = optimizer.params.map((p) => p.variable);
  return async () => {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(data.y, model.forward(data.x, true)) as tf.Scalar,
      vars,
    );
    // As the trainer: the loss is read (and checked) before the update is applied.
    await value.data();
    optimizer.sgd.step(gradsByParam(optimizer.params, grads), 0.01);
    tf.dispose([value, ...Object.values(grads)]);
  };
}

export async function benchTrain(o: BenchOptions): Promise<BenchResult> {
  const model = buildModel(o);
  const data = batchData(o, model.config.numClasses);
  const optimizer = pretrainOptimizer(model);
  try {
    return await result(o, await timeIterations(o, trainStep(model, data, optimizer)));
  } finally {
    optimizer.sgd.dispose();
    tf.dispose([data.x, data.y]);
    model.dispose();
  }
}

export async function benchForward(o: BenchOptions): Promise<BenchResult> {
  const model = buildModel(o);
  const data = batchData(o, model.config.numClasses);
  try {
    const run = async () => {
      const y = model.forward(data.x, false);
      await y.data();
      y.dispose();
    };
    return await result(o, await timeIterations(o, run));
  } finally {
    tf.dispose([data.x, data.y]);
    model.dispose();
  }
}

/** Per-kernel times of one training step, after `warmup` steps. */
export async function profileTrain(o: BenchOptions): Promise<{ totalMs: number; kernels: KernelTime[] }> {
  const model = buildModel(o);
  const data = batchData(o, model.config.numClasses);
  const optimizer = pretrainOptimizer(model);
  try {
    const step = trainStep(model, data, optimizer);
    for (let i = 0; i < Math.max(1, o.warmup); i++) await step();
    return await profileKernels(step);
  } finally {
    optimizer.sgd.dispose();
    tf.dispose([data.x, data.y]);
    model.dispose();
  }
}
