import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { buildResNet, resnetConfig } from '../../backbone/index.js';
import { maxNormalizedError } from '../../core/webgpu/reference.js';
import { parseBackend, parseKernels, positiveInt, printLine, seededValues, setupBackend } from './common.js';

/**
 * Whole-model agreement between a GPU backend and the `cpu` backend on the same weights and
 * inputs, in one process: ResNet logits (inference, BN folded) and every parameter's gradient of
 * a training step (batch-statistics BN). The model's variables move between backends with them.
 *
 *   node .gpu/app/parity.mjs --backend webgpu --kernels resdet --json
 *
 * Tolerances (max |gpu - cpu| / max |cpu|, fp32 on both sides, different summation orders):
 * logits <= 1e-3; each gradient <= 1e-2 (batch-statistics BN backward amplifies rounding
 * differences through ~50 layers; a wrong kernel gives errors of order 1).
 */

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    kernels: { type: 'string', default: 'tfjs' },
    arch: { type: 'string', default: 'resnet50' },
    // 128 px: the cpu backend's backward convolutions are naive loops (a 224 px ResNet-50 step
    // at batch 2 would take minutes there); layer4 still sees 4x4 pixels x 2 images per BN channel.
    input: { type: 'string', default: '128' },
    batch: { type: 'string', default: '2' },
    width: { type: 'string' },
    'forward-tolerance': { type: 'string', default: '1e-3' },
    'grad-tolerance': { type: 'string', default: '1e-2' },
    json: { type: 'boolean', default: false },
  },
});

const backend = parseBackend(values.backend);
const kernels = parseKernels(values.kernels);
const input = positiveInt('input', values.input);
const batch = positiveInt('batch', values.batch);
const forwardTol = Number(values['forward-tolerance']);
const gradTol = Number(values['grad-tolerance']);

await setupBackend(backend, kernels);
const gpuBackend = tf.getBackend();
const config = resnetConfig(
  values.arch,
  values.width ? { baseWidth: positiveInt('width', values.width) } : {},
);
const xData = seededValues(batch * input * input * 3, 21);
const classes = buildResNet(config, { initialize: false });
const numClasses = classes.config.numClasses;
classes.dispose();
const labelData = Array.from({ length: batch }, (_, i) => (i * 31) % numClasses);

type Model = ReturnType<typeof buildResNet>;

async function logits(model: Model): Promise<Float32Array> {
  const x = tf.tensor4d(xData, [batch, input, input, 3]);
  const y = model.forward(x, false);
  const out = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return out;
}

/** Gradients keyed by torchvision parameter name. */
async function gradients(model: Model): Promise<Map<string, Float32Array>> {
  const torchName = new Map(model.params.all().map((e) => [e.variable, e.name] as const));
  const x = tf.tensor4d(xData, [batch, input, input, 3]);
  const labels = tf.oneHot(tf.tensor1d(labelData, 'int32'), numClasses);
  const vars = model.trainableVariables();
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(labels, model.forward(x, true)) as tf.Scalar,
    vars,
  );
  const out = new Map<string, Float32Array>();
  for (const v of vars) out.set(torchName.get(v) ?? v.name, (await grads[v.name].data()) as Float32Array);
  tf.dispose([value, x, labels, ...Object.values(grads)]);
  return out;
}

// Each backend gets its own model with the same weights: TF.js would move tensors between backends
// with synchronous reads, which webgpu cannot do in Node. The weights are copied before any
// training-mode pass (it updates BN's running statistics, which inference folds in).
const onGpu = buildResNet(config);
const gpu = { logits: await logits(onGpu), grads: new Map<string, Float32Array>() };
const weights = await onGpu.stateDict();
gpu.grads = await gradients(onGpu);
onGpu.dispose();
await tf.setBackend('cpu');
const onCpu = buildResNet(config, { initialize: false });
onCpu.loadStateDict(weights);
const cpu = { logits: await logits(onCpu), grads: await gradients(onCpu) };
onCpu.dispose();
await tf.setBackend(gpuBackend);

const failures: string[] = [];
const logitErr = maxNormalizedError(gpu.logits, cpu.logits);
if (!(logitErr <= forwardTol)) failures.push(`logits: ${logitErr}`);
printLine(
  values.json,
  { what: 'logits', max_err: logitErr, tolerance: forwardTol },
  `logits: max err ${logitErr.toExponential(2)} (tolerance ${forwardTol})`,
);

let worst = { name: '', err: 0 };
for (const [name, g] of gpu.grads) {
  const ref = cpu.grads.get(name);
  if (!ref) {
    failures.push(`gradient ${name} missing on cpu`);
    continue;
  }
  const err = maxNormalizedError(g, ref);
  if (!(err <= gradTol)) failures.push(`gradient ${name}: ${err}`);
  if (!(err <= worst.err)) worst = { name, err };
}
printLine(
  values.json,
  { what: 'gradients', count: gpu.grads.size, worst: worst.name, max_err: worst.err, tolerance: gradTol },
  `gradients of ${gpu.grads.size} parameters: worst ${worst.name} ${worst.err.toExponential(2)} (tolerance ${gradTol})`,
);
printLine(
  values.json,
  { summary: true, ok: failures.length === 0, backend, kernels, arch: values.arch, input, batch, failures },
  failures.length === 0 ? 'parity ok' : `FAILED:\n${failures.join('\n')}`,
);
process.exit(failures.length === 0 ? 0 : 1);
