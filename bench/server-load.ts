/**
 * Load test of `resdet serve`: starts the server from the sources in a child process on
 * 127.0.0.1, then N client loops post the same image back to back for a fixed time (each client
 * waits for its answer before sending again: a closed loop, so the load is bounded). Reports
 * throughput, latency percentiles and errors (any non-200 or network failure), then stops the
 * server with SIGTERM and checks that it drained and exited 0.
 *
 *   nice npx tsx bench/server-load.ts [--clients 8] [--duration 30] [--route detect|classify]
 *     [--detector DIR] [--classifier DIR] [--image FILE] [--concurrency 1] [--queue N]
 *     [--backend wasm] [--inference-thread auto|worker|main] [--out bench/results/server-load.json]
 *
 * Beside the clients, a probe asks GET /healthz every 100 ms and reports how long the answers
 * took: what a load balancer's health check sees while the server is busy.
 *
 * Without --detector it writes a randomly initialised detector (--arch resnet18, --base-width 16,
 * --min-size 320, --max-size 512) to runs/bench-server/; random weights cost the same time as
 * trained ones. Only 127.0.0.1 is ever contacted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { saveClassifier } from '../backbone/classifier.js';
import { resnetConfig } from '../backbone/config.js';
import { buildResNet } from '../backbone/resnet.js';
import { initBackend } from '../core/backend.js';
import { saveDetector } from '../detection/app/checkpoint.js';
import { detectorConfig } from '../detection/model/config.js';
import { FasterRCNN } from '../detection/model/faster-rcnn.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const clients = Number(arg('--clients', '8'));
const durationS = Number(arg('--duration', '30'));
const route = arg('--route', 'detect');
const backend = arg('--backend', process.env.RESDET_BACKEND ?? 'wasm');
const concurrency = Number(arg('--concurrency', '1'));
const queue = Number(arg('--queue', String(Math.max(clients, 1))));
const warmup = Number(arg('--warmup', '3'));
const inferenceThread = arg('--inference-thread', 'auto');
const out = arg('--out', '');
if (route !== 'detect' && route !== 'classify') throw new Error('--route: detect or classify');

const workDir = 'runs/bench-server';
const arch = arg('--arch', 'resnet18');
const baseWidth = Number(arg('--base-width', '16'));
const minSize = Number(arg('--min-size', '320'));
const maxSize = Number(arg('--max-size', '512'));
const VOC =
  'aeroplane,bicycle,bird,boat,bottle,bus,car,cat,chair,cow,diningtable,dog,horse,motorbike,person,pottedplant,sheep,sofa,train,tvmonitor'.split(
    ',',
  );

async function ensureModels(): Promise<{ detector: string; classifier?: string; description: string }> {
  const given = arg('--detector', '');
  const classifier = arg('--classifier', '') || undefined;
  if (given) return { detector: given, classifier, description: `checkpoint ${given}` };
  const dir = join(workDir, `det-${arch}-w${baseWidth}-${minSize}x${maxSize}`);
  const description = `Faster R-CNN C4 on ${arch} (base width ${baseWidth}), 20 VOC classes, random init, short side ${minSize} (max ${maxSize})`;
  if (!existsSync(join(dir, 'config.json'))) {
    await initBackend('cpu');
    const model = new FasterRCNN(detectorConfig({ arch, numClasses: VOC.length, baseWidth, seed: 1 }));
    await saveDetector(dir, model, {
      classes: VOC,
      preprocessing: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], minSize, maxSize },
    });
    model.dispose();
  }
  let cls = classifier;
  if (route === 'classify' && !cls) {
    cls = join(workDir, 'cls-resnet50');
    if (!existsSync(join(cls, 'config.json'))) {
      await initBackend('cpu');
      const m = buildResNet(resnetConfig('resnet50', { numClasses: 1000, seed: 1 }));
      await saveClassifier(cls, m, {
        arch: 'resnet50',
        classes: Array.from({ length: 1000 }, (_, i) => `c${i}`),
      });
      m.dispose();
    }
  }
  return { detector: dir, classifier: cls, description };
}

/** A 640 x 480 test picture with structure (gradients and blocks), PNG-encoded once. */
async function testImage(): Promise<{ bytes: Buffer; type: string; name: string }> {
  const file = arg('--image', '');
  if (file) {
    const type = /\.png$/i.test(file) ? 'image/png' : 'image/jpeg';
    return { bytes: readFileSync(file), type, name: file };
  }
  const w = 640;
  const h = 480;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      const block = ((x >> 6) + (y >> 6)) % 3;
      px[o] = (x * 255) / w;
      px[o + 1] = (y * 255) / h;
      px[o + 2] = block * 100;
    }
  const bytes = await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  return { bytes, type: 'image/jpeg', name: 'synthetic 640x480 JPEG' };
}

function startServer(models: {
  detector: string;
  classifier?: string;
}): Promise<{ child: ChildProcess; url: string }> {
  const args = [
    '--import',
    'tsx',
    'tools/bin.ts',
    '--backend',
    backend,
    'serve',
    '--detector',
    models.detector,
    ...(models.classifier ? ['--classifier', models.classifier] : []),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--concurrency',
    String(concurrency),
    '--queue',
    String(queue),
    '--timeout-ms',
    '120000',
    '--inference-thread',
    inferenceThread,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (d) => process.stderr.write(`  [server] ${d}`));
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function main(): Promise<void> {
  const models = await ensureModels();
  const image = await testImage();
  const { child, url } = await startServer(models);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/readyz`)).status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const info = (await (await fetch(`${url}/v1/models`)).json()) as { backend: string };
  const target = `${url}/v1/${route}${route === 'detect' ? '?score_threshold=0.05&max_detections=100' : '?topk=5'}`;
  const post = () =>
    fetch(target, {
      method: 'POST',
      body: new Uint8Array(image.bytes),
      headers: { 'content-type': image.type },
    });
  for (let i = 0; i < warmup; i++) {
    const r = await post();
    if (r.status !== 200) throw new Error(`warm-up request failed: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  }

  const loadStart = loadavg()[0];
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  // Closed loop: each client sends its next request only after the previous answer.
  const loop = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        const r = await post();
        await r.arrayBuffer();
        if (r.status === 200) latencies.push(performance.now() - s);
        else errors[`HTTP ${r.status}`] = (errors[`HTTP ${r.status}`] ?? 0) + 1;
      } catch (err) {
        const k = err instanceof Error ? err.message : String(err);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  const health: number[] = [];
  const probe = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      const r = await fetch(`${url}/healthz`);
      await r.arrayBuffer();
      if (r.status === 200) health.push(performance.now() - s);
      else errors[`healthz HTTP ${r.status}`] = (errors[`healthz HTTP ${r.status}`] ?? 0) + 1;
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  await Promise.all([...Array.from({ length: clients }, loop), probe()]);
  const elapsed = (performance.now() - t0) / 1000;
  const healthSorted = [...health].sort((a, b) => a - b);

  const metrics = await (await fetch(`${url}/metrics`)).text();
  const model = route === 'detect' ? 'detector' : 'classifier';
  const sum = Number(
    metrics.match(new RegExp(`resdet_inference_duration_seconds_sum\\{model="${model}"\\} (\\S+)`))?.[1],
  );
  const count = Number(
    metrics.match(new RegExp(`resdet_inference_duration_seconds_count\\{model="${model}"\\} (\\S+)`))?.[1],
  );
  child.kill('SIGTERM');
  const exitCode = await exited;

  const sorted = [...latencies].sort((a, b) => a - b);
  const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
  const result = {
    date: new Date().toISOString(),
    route,
    model:
      route === 'detect'
        ? models.description
        : arg('--classifier', '')
          ? `checkpoint ${models.classifier}`
          : 'ResNet-50 classifier, 1000 classes, random init, 224 x 224 centre crop',
    image: `${image.name} (${image.bytes.length} bytes)`,
    backend: info.backend,
    machine: `${cpus()[0]?.model ?? 'unknown CPU'} x ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    // Other work on the machine while measuring (1-minute load average at start and end).
    loadAverage: [Number(loadStart.toFixed(1)), Number(loadavg()[0].toFixed(1))],
    clients,
    serverConcurrency: concurrency,
    serverQueue: queue,
    durationS: Number(elapsed.toFixed(1)),
    requests: latencies.length,
    errors: errorCount,
    errorKinds: errors,
    throughputRps: Number((latencies.length / elapsed).toFixed(2)),
    latencyMs: {
      p50: Math.round(percentile(sorted, 50)),
      p90: Math.round(percentile(sorted, 90)),
      p99: Math.round(percentile(sorted, 99)),
      max: Math.round(sorted.at(-1) ?? Number.NaN),
    },
    meanInferenceMs: Math.round((sum / count) * 1000),
    inferenceThread,
    healthzMs: {
      probes: health.length,
      p50: Math.round(percentile(healthSorted, 50)),
      p99: Math.round(percentile(healthSorted, 99)),
      max: Math.round(healthSorted.at(-1) ?? Number.NaN),
    },
    serverExitCode: exitCode,
  };
  console.log(JSON.stringify(result, null, 2));
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  }
  if (errorCount > 0 || exitCode !== 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
