/**
 * Throughput of `resdet queue` against one `evaluate-detector` process on the same set, on this
 * machine: a Redis of its own (Debian's redis-server, in memory, 127.0.0.1), N worker processes
 * (`resdet queue worker`), one run per N, each collected and checked against the single-process
 * result (same detections file, same mAP). Then the queue's own cost per chunk: BullMQ round
 * trips (add, take, complete with a result the size of a real chunk's) with a processor that does
 * nothing.
 *
 *   nice npx tsx bench/queue.ts [--images 72] [--chunk 8] [--workers 1,2,3] [--size 160]
 *     [--min-size 160] [--base-width 16] [--noop-jobs 400] [--out bench/results/queue.jsonl]
 *
 * One JSON line per measurement on stdout (and appended to --out). The detector is randomly
 * initialised (ResNet-18 C4, base width 16; random weights cost the same time as trained ones),
 * the data `resdet data synth --kind shapes`, both under runs/bench-queue/.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Job, Queue, Worker } from 'bullmq';
import { initBackend } from '../core/backend.js';
import { saveDetector } from '../detection/app/checkpoint.js';
import { detectorConfig } from '../detection/model/config.js';
import { FasterRCNN } from '../detection/model/faster-rcnn.js';
import { type ChunkStats, connectRedis, openRun, runStatus } from '../server/queue/index.js';
import { bullConnection } from '../server/queue/redis.js';
import { chunkJobId, runStatsKey } from '../server/queue/run.js';
import { repoRoot, runCli } from '../test/helpers/cli.js';
import { spawnQueueWorker } from '../test/helpers/queue-worker.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const images = Number(arg('--images', '72'));
const chunk = Number(arg('--chunk', '8'));
const workerCounts = arg('--workers', '1,2,3').split(',').map(Number);
const size = arg('--size', '160');
const minSize = Number(arg('--min-size', '160'));
const baseWidth = Number(arg('--base-width', '16'));
const noopJobs = Number(arg('--noop-jobs', '400'));
const out = arg('--out', '');
const backend = process.env.RESDET_BACKEND ?? 'wasm';
const env = { RESDET_BACKEND: backend, RESDET_WASM_THREADS: process.env.RESDET_WASM_THREADS ?? '1' };
const CLASSES = ['circle', 'square', 'triangle', 'star'];

const dir = join(repoRoot, 'runs', 'bench-queue');
const data = join(dir, 'shapes');
const model = join(dir, 'model');
const spec = `coco:${join(data, 'annotations', 'instances_test.json')}:${join(data, 'JPEGImages')}`;

const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  backend,
  threads: Number(env.RESDET_WASM_THREADS),
};

function emit(record: Record<string, unknown>): void {
  const line = JSON.stringify({ time: new Date().toISOString(), load1: loadavg()[0], ...record });
  console.log(line);
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    appendFileSync(out, `${line}\n`);
  }
}

async function must(args: string[]): Promise<string> {
  const r = await runCli(args, { env, timeoutMs: 3_600_000 });
  if (r.code !== 0) throw new Error(`resdet ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)];
};

/** The queue alone: jobs with a real chunk's result size, a processor that returns at once. */
async function noopRoundTrips(redis: string, result: unknown): Promise<void> {
  const name = 'bench-noop';
  const queue = new Queue(name, { connection: bullConnection(redis), prefix: 'resdet-bench' });
  let done = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((r) => {
    finish = r;
  });
  const worker = new Worker(name, async () => result, {
    connection: bullConnection(redis),
    prefix: 'resdet-bench',
  });
  worker.on('completed', () => {
    if (++done === noopJobs) finish();
  });
  await worker.waitUntilReady();
  const t0 = performance.now();
  await queue.addBulk(
    Array.from({ length: noopJobs }, (_, i) => ({
      name: 'noop',
      data: { run: 'noop', chunk: i, imageIds: Array.from({ length: chunk }, (_, k) => i * chunk + k) },
      opts: { jobId: `noop.${i}` },
    })),
  );
  await all;
  const seconds = (performance.now() - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  emit({
    kind: 'queue-noop',
    jobs: noopJobs,
    resultBytes: JSON.stringify(result).length,
    seconds,
    msPerJob: (seconds * 1000) / noopJobs,
    machine,
  });
}

async function main(): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await must([
    'data',
    'synth',
    '--kind',
    'shapes',
    '--out',
    data,
    '--train',
    '1',
    '--test',
    String(images),
    '--size',
    size,
  ]);
  await initBackend('cpu');
  const net = new FasterRCNN(
    detectorConfig({
      arch: 'resnet18',
      numClasses: CLASSES.length,
      baseWidth,
      roiHeads: { scoreThreshold: 0.05 },
      seed: 7,
    }),
  );
  await saveDetector(model, net, {
    classes: CLASSES,
    preprocessing: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], minSize, maxSize: minSize },
  });
  net.dispose();
  const described = {
    images,
    chunk,
    imageSize: Number(size),
    model: `resnet18 C4 w${baseWidth}, short side ${minSize}`,
  };

  // The reference: one process, as a user would run it (wall time includes start and model load).
  let t0 = performance.now();
  const single = JSON.parse(
    await must([
      'evaluate-detector',
      '--model',
      model,
      '--data',
      spec,
      '--metric',
      'voc07,coco',
      '--out',
      join(dir, 'single'),
      '--json',
    ]),
  );
  const singleWall = (performance.now() - t0) / 1000;
  emit({
    kind: 'evaluate-detector',
    ...described,
    wallSeconds: singleWall,
    detectSeconds: single.seconds,
    msPerImage: (single.seconds * 1000) / images,
    mAP: single.voc.mAP,
    machine,
  });
  const reference = readFileSync(join(dir, 'single', 'detections_coco.json'), 'utf8');

  const redisServer = await startRedisServer(dir);
  const redis = redisServer.url;
  try {
    let chunkResult: unknown;
    for (const n of workerCounts) {
      const workers = Array.from({ length: n }, (_, i) => spawnQueueWorker(redis, `b${n}-${i}`, { env }));
      await Promise.all(workers.map((w) => w.ready));
      const run = `bench-${n}w`;
      t0 = performance.now();
      await must([
        'queue',
        'submit',
        '--redis',
        redis,
        '--model',
        model,
        '--data',
        spec,
        '--chunk',
        String(chunk),
        '--name',
        run,
      ]);
      for (;;) {
        const s = await runStatus(redis, run);
        if (s.chunks.active + s.chunks.queued === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const runSeconds = (performance.now() - t0) / 1000;
      t0 = performance.now();
      const collected = JSON.parse(
        await must([
          'queue',
          'collect',
          run,
          '--redis',
          redis,
          '--out',
          join(dir, run),
          '--metric',
          'voc07,coco',
          '--json',
        ]),
      );
      const collectWall = (performance.now() - t0) / 1000;
      const same = readFileSync(join(dir, run, 'detections_coco.json'), 'utf8') === reference;
      const client = await connectRedis(redis);
      const stats = Object.values(await client.hgetall(runStatsKey(run))).map(
        (x) => JSON.parse(x) as ChunkStats,
      );
      client.disconnect();
      if (chunkResult === undefined) {
        const handle = await openRun(redis, run);
        chunkResult = (await Job.fromId(handle.queue, chunkJobId(run, 0)))?.returnvalue;
        await handle.close();
      }
      // Worker-side time per chunk outside detection (job fetch, result write) and the gap before
      // its next chunk; each worker's first chunk also loads the model and is left out.
      const outside: number[] = [];
      const gaps: number[] = [];
      const byWorker = new Map<string, ChunkStats[]>();
      for (const s of stats) byWorker.set(s.worker, [...(byWorker.get(s.worker) ?? []), s]);
      for (const list of byWorker.values()) {
        list.sort((a, b) => a.processedOn - b.processedOn);
        for (let i = 1; i < list.length; i++) {
          outside.push(list[i].finishedOn - list[i].processedOn - list[i].seconds * 1000);
          gaps.push(list[i].processedOn - list[i - 1].finishedOn);
        }
      }
      const detectSeconds = stats.reduce((a, s) => a + s.seconds, 0);
      emit({
        kind: 'queue',
        workers: n,
        ...described,
        runSeconds,
        collectWallSeconds: collectWall,
        imagesPerSecond: images / runSeconds,
        msPerImageWall: (runSeconds * 1000) / images,
        msPerImageDetect: (detectSeconds * 1000) / images,
        speedupVsSingleWall: singleWall / (runSeconds + collectWall),
        medianOutsideDetectMsPerChunk: median(outside),
        medianGapMsBetweenChunks: median(gaps),
        sameDetectionsAsSingle: same,
        sameMAP:
          collected.voc.mAP === single.voc.mAP &&
          JSON.stringify(collected.coco) === JSON.stringify(single.coco),
        perWorker: collected.workers,
        machine,
      });
      for (const { child } of workers) child.kill('SIGTERM');
      await Promise.all(
        workers.map(
          ({ child }) => new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r))),
        ),
      );
    }
    await noopRoundTrips(redis, chunkResult ?? {});
  } finally {
    await redisServer.stop();
  }
}

await main();
