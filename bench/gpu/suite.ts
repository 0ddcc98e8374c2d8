import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { buildResNet, type ResNet, resnetConfig } from '../../backbone/index.js';
import { countUncapturedErrors } from '../../core/webgpu/null-backend.js';
import { webgpuKernelStats } from '../../core/webgpu/register.js';
import {
  intList,
  parseBackend,
  parseKernels,
  positiveInt,
  reportCase,
  seededValues,
  setupBackend,
  sync,
  timeSteps,
} from './common.js';

/**
 * The GPU benchmark cases for the classifier: ResNet-50 forward (inference, BN folded)
 * at each --forward-batches size and one training step (batch-statistics BN, momentum SGD,
 * softmax cross-entropy) at each --train-batches size. One JSON line per case:
 *   {"arch","input","batch","backend","case","kernels","img_per_s","ms_per_iter","iterations"}
 *
 *   node .gpu/app/suite.mjs --backend webgpu --kernels resdet --json          (the H100 run)
 *   npx tsx bench/gpu/suite.ts --backend cpu --input 32 --forward-batches 1 --train-batches 2 \
 *     --iterations 1 --warmup 0 --width 8                                    (a smoke run here)
 *
 * The Faster R-CNN cases live in their own entry once the detector lands (see bench/gpu/README.md).
 */

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    kernels: { type: 'string', default: 'tfjs' },
    arch: { type: 'string', default: 'resnet50' },
    input: { type: 'string', default: '224' },
    'forward-batches': { type: 'string', default: '1,64' },
    'train-batches': { type: 'string', default: '64' },
    iterations: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    /** baseWidth override: shrinks every layer (smoke runs on a CPU). */
    width: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const backend = parseBackend(values.backend);
const kernels = parseKernels(values.kernels);
const input = positiveInt('input', values.input);
const iterations = positiveInt('iterations', values.iterations);
const warmup = Number(values.warmup);
if (!Number.isInteger(warmup) || warmup < 0) throw new Error('--warmup: expected an integer >= 0');
const arch = values.arch;

await setupBackend(backend, kernels);
// On webgpu, a pipeline or bind-group validation error fails the run instead of timing garbage.
const gpuErrors = backend === 'webgpu' || backend === 'webgpu-null' ? countUncapturedErrors() : null;
const model: ResNet = buildResNet(
  resnetConfig(arch, values.width ? { baseWidth: positiveInt('width', values.width) } : {}),
);

function images(batch: number, seed: number): tf.Tensor4D {
  return tf.tensor4d(seededValues(batch * input * input * 3, seed), [batch, input, input, 3]);
}

function report(kind: 'forward' | 'train', batch: number, ms: number): void {
  reportCase(values.json, { arch, input, batch, backend, case: kind, kernels, iterations }, ms);
}

for (const batch of intList('forward-batches', values['forward-batches'])) {
  const x = images(batch, 1);
  const ms = await timeSteps(
    async () => {
      const logits = model.forward(x, false);
      await sync(logits);
      logits.dispose();
    },
    warmup,
    iterations,
  );
  x.dispose();
  report('forward', batch, ms);
}

const numClasses = model.config.numClasses;
for (const batch of intList('train-batches', values['train-batches'])) {
  const x = images(batch, 2);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => (i * 7919) % numClasses),
      'int32',
    ),
    numClasses,
  );
  const optimizer = tf.train.momentum(0.01, 0.9);
  const vars = model.trainableVariables();
  const ms = await timeSteps(
    async () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.forward(x, true)) as tf.Scalar,
        true,
        vars,
      );
      if (!loss) throw new Error('the optimizer returned no loss');
      await sync(loss);
      loss.dispose();
    },
    warmup,
    iterations,
  );
  x.dispose();
  labels.dispose();
  optimizer.dispose();
  report('train', batch, ms);
}

if (kernels === 'resdet') {
  const stats = webgpuKernelStats();
  process.stderr.write(
    `resdet kernels ran: filter ${stats.filter}, input ${stats.input}, fallback ${stats.fallback}\n`,
  );
}
model.dispose();
if (gpuErrors && gpuErrors.count() > 0) {
  process.stderr.write(`${gpuErrors.count()} WebGPU errors, first: ${gpuErrors.messages[0]}\n`);
  process.exit(1);
}
// Dawn keeps the process alive while its GPU object exists.
process.exit(0);
