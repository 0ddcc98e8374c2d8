import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { ConvParams } from '../../core/conv-params.js';
import { countUncapturedErrors } from '../../core/webgpu/null-backend.js';
import { maxNormalizedError, referenceFilterGrad, referenceInputGrad } from '../../core/webgpu/reference.js';
import {
  registerWebgpuKernels,
  unregisterWebgpuKernels,
  webgpuKernelStats,
} from '../../core/webgpu/register.js';
import { parseBackend, positiveInt, printLine, seededValues, setupBackend } from './common.js';
import { resnet50Convs } from './resnet50-convs.js';

/**
 * Checks resdet's WGSL convolution gradients on the webgpu backend against float64 nested loops
 * (core/webgpu/reference.ts) for every distinct ResNet-50 convolution, and tfjs's own webgpu
 * kernels against the same reference (so a disagreement can be blamed on the right side).
 *
 *   node .gpu/app/kernel-check.mjs --backend webgpu --json                  (the H100 run)
 *   npx tsx bench/gpu/kernel-check.ts --backend webgpu-null --input 32      (here: compiles and
 *     validates every pipeline on Dawn's null adapter; results are not computed, so not compared)
 *
 * Tolerance: max |gpu - ref| / max |ref| <= 1e-4 per gradient (fp32 sums of up to batch*OH*OW
 * products; WGSL f32 has no TF32 shortcut). Exit status 1 on any failure or WebGPU error.
 */

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    batch: { type: 'string', default: '2' },
    input: { type: 'string', default: '224' },
    /** Substring filter on case names. */
    only: { type: 'string', default: '' },
    'split-k': { type: 'string' },
    /** `off`: strided input gradients as one GEMM instead of stride^2 phase GEMMs. */
    phases: { type: 'string', default: 'on' },
    tolerance: { type: 'string', default: '1e-4' },
    json: { type: 'boolean', default: false },
  },
});

const backend = parseBackend(values.backend);
if (backend !== 'webgpu' && backend !== 'webgpu-null')
  throw new Error('kernel-check runs on webgpu or webgpu-null');
const compare = backend === 'webgpu';
const tolerance = Number(values.tolerance);
const batch = positiveInt('batch', values.batch);
const input = positiveInt('input', values.input);
const splitK = values['split-k'] ? positiveInt('split-k', values['split-k']) : undefined;

await setupBackend(backend, 'tfjs');
const errors = countUncapturedErrors();
const cases = resnet50Convs(batch, input).filter((c) => c.name.includes(values.only));

type Grad = 'filter' | 'input';

function runGrad(grad: Grad, p: ConvParams, x: tf.Tensor4D, dy: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor {
  const attrs = {
    strides: [p.strideHeight, p.strideWidth],
    pad: p.padTop,
    dataFormat: 'NHWC',
    dimRoundingMode: 'floor',
  };
  if (grad === 'filter') {
    return tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      {
        ...attrs,
        filterShape: [p.filterHeight, p.filterWidth, p.inChannels, p.outChannels],
      },
    ) as tf.Tensor;
  }
  return tf
    .engine()
    .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
}

const failures: string[] = [];
for (const { name, params: p } of cases) {
  const xShape: [number, number, number, number] = [p.batch, p.inHeight, p.inWidth, p.inChannels];
  const dyShape: [number, number, number, number] = [p.batch, p.outHeight, p.outWidth, p.outChannels];
  const wShape: [number, number, number, number] = [
    p.filterHeight,
    p.filterWidth,
    p.inChannels,
    p.outChannels,
  ];
  const xv = seededValues(
    xShape.reduce((a, b) => a * b),
    11,
  );
  const dyv = seededValues(
    dyShape.reduce((a, b) => a * b),
    12,
  );
  const wv = seededValues(
    wShape.reduce((a, b) => a * b),
    13,
  );
  const x = tf.tensor4d(xv, xShape);
  const dy = tf.tensor4d(dyv, dyShape);
  const w = tf.tensor4d(wv, wShape);
  for (const grad of ['filter', 'input'] as const) {
    const ref = compare
      ? grad === 'filter'
        ? referenceFilterGrad(p, xv, dyv)
        : referenceInputGrad(p, dyv, wv)
      : null;
    for (const kernels of ['tfjs', 'resdet'] as const) {
      if (kernels === 'resdet') registerWebgpuKernels({ splitK, phases: values.phases !== 'off' });
      const before = webgpuKernelStats();
      const start = performance.now();
      const out = runGrad(grad, p, x, dy, w);
      const got = await out.data();
      const ms = performance.now() - start;
      const ran = webgpuKernelStats()[grad] - before[grad];
      out.dispose();
      if (kernels === 'resdet') unregisterWebgpuKernels();
      const err = ref ? maxNormalizedError(got, ref) : null;
      const ok = (err === null || err <= tolerance) && (kernels === 'tfjs' || ran === 1);
      if (!ok) failures.push(`${name} ${grad} (${kernels}): error ${err}, resdet kernel calls ${ran}`);
      printLine(
        values.json,
        {
          case: name,
          grad,
          kernels,
          backend,
          batch,
          input,
          max_err: err,
          ok,
          ms_first_call: Number(ms.toFixed(1)),
        },
        `${ok ? 'ok  ' : 'FAIL'} ${name} ${grad} grad, ${kernels}: ${err === null ? 'not compared (null adapter)' : `max err ${err.toExponential(2)}`}`,
      );
    }
  }
  x.dispose();
  dy.dispose();
  w.dispose();
}

if (errors.count() > 0)
  failures.push(`${errors.count()} WebGPU errors: ${errors.messages.slice(0, 3).join(' | ')}`);
printLine(
  values.json,
  { summary: true, ok: failures.length === 0, cases: cases.length, failures },
  failures.length === 0 ? `all ${cases.length} cases passed` : `FAILED:\n${failures.join('\n')}`,
);
process.exit(failures.length === 0 ? 0 : 1);
