import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../core/rng.js';
import { countUncapturedErrors } from '../../core/webgpu/null-backend.js';
import { webgpuKernelStats } from '../../core/webgpu/register.js';
import { detectorConfig, FasterRCNN, type ImageBatch, type ImageTargets } from '../../detection/index.js';
import { DETECTOR_WEIGHT_DECAY, gradsByParam, Sgd } from '../../core/train/sgd.js';
import {
  parseBackend,
  parseKernels,
  positiveInt,
  reportCase,
  seededValues,
  setupBackend,
  timeSteps,
} from './common.js';

/**
 * The Faster R-CNN cases: R50-C4 (conv1..conv4_x shared, RoIAlign 14x14, conv5_x as the
 * per-RoI head, 300 proposals at test time) inference at 600x1000 and a training step (RPN and
 * RoI losses, momentum SGD) at batch 2, like the torchvision-assembled reference. One JSON line
 * per case: {"arch","input","batch","backend","case","kernels","img_per_s","ms_per_iter","iterations"}.
 *
 *   node .gpu/app/detector.mjs --backend webgpu --kernels resdet --json           (the H100 run)
 *   npx tsx bench/gpu/detector.ts --backend cpu --height 96 --width 128 --base-width 8 \
 *     --iterations 1 --warmup 0                                                (a smoke run here)
 */

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    kernels: { type: 'string', default: 'tfjs' },
    arch: { type: 'string', default: 'resnet50' },
    height: { type: 'string', default: '600' },
    width: { type: 'string', default: '1000' },
    'base-width': { type: 'string' },
    classes: { type: 'string', default: '80' },
    'inference-batch': { type: 'string', default: '1' },
    'train-batch': { type: 'string', default: '2' },
    cases: { type: 'string', default: 'inference,train' },
    iterations: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});

const backend = parseBackend(values.backend);
const kernels = parseKernels(values.kernels);
const height = positiveInt('height', values.height);
const width = positiveInt('width', values.width);
const numClasses = positiveInt('classes', values.classes);
const iterations = positiveInt('iterations', values.iterations);
const warmup = Number(values.warmup);
const cases = values.cases.split(',').map((c) => c.trim());
for (const c of cases)
  if (c !== 'inference' && c !== 'train') throw new Error(`--cases: unknown case "${c}"`);

await setupBackend(backend, kernels);
const gpuErrors = backend === 'webgpu' || backend === 'webgpu-null' ? countUncapturedErrors() : null;

const config = detectorConfig({
  arch: values.arch,
  numClasses,
  baseWidth: values['base-width'] ? positiveInt('base-width', values['base-width']) : undefined,
  // A pretrained backbone's setting: frozen BN, conv1 and conv2_x fixed.
  frozenBn: true,
  freezeAt: 2,
  roiHeads: { pooler: 'align', samplingRatio: 0, aligned: true },
});
const model = new FasterRCNN(config);
const arch = `fasterrcnn_${values.arch.replace('resnet', 'r')}_c4`;

function imageBatch(n: number, seed: number): ImageBatch {
  const pad = (v: number) => Math.ceil(v / config.sizeDivisible) * config.sizeDivisible;
  const [ph, pw] = [pad(height), pad(width)];
  const data = seededValues(n * ph * pw * 3, seed);
  return {
    images: tf.tensor4d(data, [n, ph, pw, 3]),
    imageSizes: Array.from({ length: n }, () => [height, width] as [number, number]),
  };
}

/** A few boxes per image at fixed places (the timing does not depend on where they are). */
function targets(n: number): ImageTargets[] {
  return Array.from({ length: n }, (_, i) => {
    const boxes: number[] = [];
    const labels: number[] = [];
    for (let b = 0; b < 4; b++) {
      const x1 = (width * (b + 1)) / 10;
      const y1 = (height * (b + 2)) / 12;
      boxes.push(x1, y1, Math.min(width - 1, x1 + width / 4), Math.min(height - 1, y1 + height / 3));
      labels.push(1 + ((i * 4 + b) % numClasses));
    }
    return { boxes: Float32Array.from(boxes), labels: Int32Array.from(labels) };
  });
}

function report(kind: string, batch: number, ms: number): void {
  reportCase(
    values.json,
    { arch, input: `${height}x${width}`, batch, backend, case: kind, kernels, iterations },
    ms,
  );
}

if (cases.includes('inference')) {
  const n = positiveInt('inference-batch', values['inference-batch']);
  const batch = imageBatch(n, 1);
  // detect() reads its results back, which waits for the device.
  const ms = await timeSteps(async () => void model.detect(batch), warmup, iterations);
  batch.images.dispose();
  report('inference', n, ms);
}

if (cases.includes('train')) {
  const n = positiveInt('train-batch', values['train-batch']);
  const batch = imageBatch(n, 2);
  const t = targets(n);
  const named = model.namedTrainableVariables();
  const optimizer = new Sgd(named, { momentum: 0.9, weightDecay: DETECTOR_WEIGHT_DECAY });
  const variables = named.map((v) => v.variable);
  const rng = new Rng(7);
  const ms = await timeSteps(
    async () => {
      // lossGradients reads the loss values back, which waits for the device.
      const { grads } = await model.lossGradients(batch, t, rng, variables);
      optimizer.step(gradsByParam(named, grads), 0.001);
      tf.dispose(Object.values(grads));
    },
    warmup,
    iterations,
  );
  optimizer.dispose();
  batch.images.dispose();
  report('train', n, ms);
}

if (kernels === 'resdet') {
  const s = webgpuKernelStats();
  process.stderr.write(`resdet kernels ran: filter ${s.filter}, input ${s.input}, fallback ${s.fallback}\n`);
}
model.dispose();
if (gpuErrors && gpuErrors.count() > 0) {
  process.stderr.write(`${gpuErrors.count()} WebGPU errors, first: ${gpuErrors.messages[0]}\n`);
  process.exit(1);
}
process.exit(0);
