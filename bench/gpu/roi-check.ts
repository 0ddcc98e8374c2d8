import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { countUncapturedErrors } from '../../core/webgpu/null-backend.js';
import { maxNormalizedError } from '../../core/webgpu/reference.js';
import { roiAlign } from '../../detection/ops/roi-align.js';
import { roiPool } from '../../detection/ops/roi-pool.js';
import { parseBackend, printLine, seededValues, setupBackend } from './common.js';
import { caseRois, type RoiCase, roiCases } from './roi-cases.js';

/**
 * resdet's RoIAlign / RoIPool kernels on a GPU backend against the `cpu` kernels (which the
 * torchvision fixtures pin) on the same inputs, in one process: the pooled values and the feature
 * map's gradient for a fixed upstream gradient. One JSON line per case, then a summary; exit 1 on
 * any failure or WebGPU error.
 *
 *   node .gpu/app/roi-check.mjs --backend webgpu --json            (on the GPU, with the R50-C4 cases)
 *   npx tsx bench/gpu/roi-check.ts --backend webgpu-null --small   (here: validates the pipelines)
 *
 * Tolerance: max |gpu - cpu| / max |cpu| <= 1e-5 (both float32; the gradients sum in another order).
 */

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    small: { type: 'boolean', default: false },
    tolerance: { type: 'string', default: '1e-5' },
    json: { type: 'boolean', default: false },
  },
});

const backend = parseBackend(values.backend);
const tolerance = Number(values.tolerance);
await setupBackend(backend, 'tfjs');
const gpuBackend = tf.getBackend();
const gpuErrors = backend === 'webgpu' || backend === 'webgpu-null' ? countUncapturedErrors() : null;
const compares = backend !== 'webgpu-null';

interface Result {
  forward: Float32Array;
  grad: Float32Array;
  ms: number;
}

async function run(
  c: RoiCase,
  rois: Float32Array,
  x: Float32Array,
  dy: Float32Array,
  warmup: boolean,
): Promise<Result> {
  const op = (t: tf.Tensor) =>
    c.op === 'align'
      ? roiAlign(t, rois, {
          outputSize: c.pooled,
          spatialScale: c.spatialScale,
          samplingRatio: c.samplingRatio,
          aligned: c.aligned,
        })
      : roiPool(t, rois, { outputSize: c.pooled, spatialScale: c.spatialScale });
  const step = async () => {
    const xt = tf.tensor4d(x, c.map);
    const dyt = tf.tensor4d(dy, [c.rois, c.pooled, c.pooled, c.map[3]]);
    const forward = op(xt);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op(t), dyt)))(xt);
    const both = tf.concat([tf.reshape(forward, [-1]), tf.reshape(grad, [-1])]);
    const values = (await both.data()) as Float32Array;
    tf.dispose([xt, dyt, forward, grad, both]);
    return values;
  };
  if (warmup) await step(); // shader compilation and allocation out of the timing
  const t0 = performance.now();
  const values = await step();
  const ms = performance.now() - t0;
  const size = c.rois * c.pooled * c.pooled * c.map[3];
  return { forward: values.slice(0, size), grad: values.slice(size), ms };
}

const failures: string[] = [];
const cases = roiCases({ large: !values.small });
for (const c of cases) {
  const rois = caseRois(c);
  const x = seededValues(
    c.map.reduce((a, b) => a * b, 1),
    c.seed + 10,
  );
  const dy = seededValues(c.rois * c.pooled * c.pooled * c.map[3], c.seed + 20);
  await tf.setBackend(gpuBackend);
  const gpu = await run(c, rois, x, dy, true);
  let forwardErr = Number.NaN;
  let gradErr = Number.NaN;
  let ok = true;
  if (compares) {
    await tf.setBackend('cpu');
    const cpu = await run(c, rois, x, dy, false);
    forwardErr = maxNormalizedError(gpu.forward, cpu.forward);
    gradErr = maxNormalizedError(gpu.grad, cpu.grad);
    ok = forwardErr <= tolerance && gradErr <= tolerance;
    if (!ok) failures.push(`${c.name}: forward ${forwardErr}, gradient ${gradErr}`);
  }
  printLine(
    values.json,
    {
      what: 'roi',
      case: c.name,
      op: c.op,
      map: c.map,
      rois: c.rois,
      backend,
      forward_err: forwardErr,
      grad_err: gradErr,
      tolerance,
      ok,
      gpu_ms: Number(gpu.ms.toFixed(2)),
    },
    `${c.name}: forward ${forwardErr.toExponential(2)}, gradient ${gradErr.toExponential(2)} (tolerance ${tolerance}), ${gpu.ms.toFixed(1)} ms forward+backward on ${backend}${ok ? '' : '  FAILED'}`,
  );
}
await tf.setBackend(gpuBackend);
if (gpuErrors && gpuErrors.count() > 0)
  failures.push(`${gpuErrors.count()} WebGPU errors, first: ${gpuErrors.messages[0]}`);
printLine(
  values.json,
  { summary: true, ok: failures.length === 0, backend, cases: cases.length, compared: compares, failures },
  failures.length === 0 ? `roi-check ok (${cases.length} cases)` : `FAILED:\n${failures.join('\n')}`,
);
process.exit(failures.length === 0 ? 0 : 1);
