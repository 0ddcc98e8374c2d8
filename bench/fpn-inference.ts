/**
 * torchvision R50-FPN (v1) inference at 800 x 1333 (an 800x1333 image: scale 1, padded to 800x1344),
 * batch 1, through resdet's whole detector path (transform, backbone + FPN, RPN over 5 levels,
 * MultiScaleRoIAlign, box head, postprocess). Weights: an imported checkpoint directory (what
 * `resdet import torchvision` wrote), e.g. from bench/fpn-init-weights.py. Prints one JSON line.
 *
 *   RESDET_WASM_THREADS=2 npx tsx bench/fpn-inference.ts --model DIR [--runs 3] [--warmup 1]
 */
import { cpus, loadavg } from 'node:os';
import { initBackend } from '../core/backend.js';
import { loadDetectorCheckpoint } from '../detection/app/checkpoint.js';
import { FpnFasterRCNN } from '../detection/model/generalized-rcnn.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Number(arg('runs', '3'));
const warmup = Number(arg('warmup', '1'));
const { backend } = await initBackend('wasm', { notice: () => {} });
const { model } = loadDetectorCheckpoint(arg('model', ''));
if (!(model instanceof FpnFasterRCNN)) throw new Error('--model must hold an FPN detector');
const [h, w] = [800, 1333];
// A fixed pseudo-random image (uniform bytes, as the PyTorch side's torch.rand).
const data = new Uint8Array(h * w * 3);
let s = 12345;
for (let i = 0; i < data.length; i++) {
  s = (s * 1103515245 + 12345) >>> 0;
  data[i] = s >>> 24;
}
const rgb = { data, width: w, height: h };
const times: number[] = [];
let detections = 0;
for (let i = 0; i < warmup + runs; i++) {
  const t0 = performance.now();
  detections = (await model.detectImage(rgb)).scores.length;
  if (i >= warmup) times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const ms = times[Math.floor(times.length / 2)];
console.log(
  JSON.stringify({
    impl: 'resdet',
    backend,
    threads: Number(process.env.RESDET_WASM_THREADS ?? 0) || undefined,
    arch: model.config.arch,
    input: [h, w],
    padded: [800, 1344],
    ms_per_image: Math.round(ms),
    runs: times.map(Math.round),
    detections,
    loadavg_1m: Number(loadavg()[0].toFixed(2)),
    cpus: cpus().length,
  }),
);
model.dispose();
// The wasm backend's worker threads would keep the process alive.
process.exit(0);
