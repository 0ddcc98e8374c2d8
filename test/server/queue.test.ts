import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { UsageError } from '../../core/errors.js';
import {
  chunkJobId,
  collectRun,
  openRun,
  removeRun,
  runStatus,
  submitRun,
} from '../../server/queue/index.js';
import { runCli } from '../helpers/cli.js';
import { type SpawnedWorker, spawnQueueWorker } from '../helpers/queue-worker.js';
import { freePort, type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { writeTinyDetector } from './tiny-models.js';

// The queue end to end, every piece its own process as in a real deployment: a Redis of our own
// (Debian's redis-server, in-memory, on a free port), three `resdet queue worker`s, one of them
// killed with SIGKILL in the middle of a chunk, and `collect` compared with `evaluate-detector`.

const tmp = mkdtempSync(join(tmpdir(), 'resdet-queue-'));
const data = join(tmp, 'shapes');
const model = join(tmp, 'model');
const env = { RESDET_BACKEND: 'wasm' };
const CLASSES = ['circle', 'square', 'triangle', 'star'];
const IMAGES = 30;
// Short locks so that a dead worker's chunk is back in the queue within about four seconds (long
// enough that a live worker on this loaded machine still renews its own in time).
const WORKER_FLAGS = ['--lock-ms', '3000', '--stalled-ms', '1000'];

let redisServer: RedisServer | undefined;
let redis = '';
const workers = new Map<string, SpawnedWorker>();

async function waitFor(ok: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const settled = async (run: string) => {
  const s = await runStatus(redis, run);
  return s.chunks.active + s.chunks.queued === 0;
};

const cli = (args: string[]) => runCli(args, { env });
const submit = (run: string, data: string, ...flags: string[]) =>
  cli(['queue', 'submit', '--redis', redis, '--model', model, '--data', data, '--name', run, ...flags]);
const cocoSpec = (images: string) => `coco:${join(data, 'annotations', 'instances_test.json')}:${images}`;
const vocFiles = (dir: string) =>
  Object.fromEntries(
    readdirSync(join(dir, 'voc')).map((f) => [f, readFileSync(join(dir, 'voc', f), 'utf8')]),
  );

beforeAll(async () => {
  redisServer = await startRedisServer(tmp);
  redis = redisServer.url;
  const synth = await cli([
    'data',
    'synth',
    '--kind',
    'shapes',
    '--out',
    data,
    '--train',
    '1',
    '--test',
    String(IMAGES),
    '--size',
    '64',
  ]);
  expect(synth.code, synth.stderr).toBe(0);
  await initBackend('cpu');
  await writeTinyDetector(model, { classes: CLASSES, minSize: 64, maxSize: 64 });
  for (const name of ['w1', 'w2', 'w3'])
    workers.set(name, spawnQueueWorker(redis, name, { flags: WORKER_FLAGS, env }));
  await Promise.all([...workers.values()].map((w) => w.ready));
});

afterAll(async () => {
  for (const { child } of workers.values()) child.kill('SIGKILL');
  await redisServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('resdet queue', () => {
  it('three workers, one SIGKILLed mid-chunk: collect equals evaluate-detector (same detections, same mAP)', async () => {
    const spec = cocoSpec(join(data, 'JPEGImages'));
    const single = await cli([
      'evaluate-detector',
      '--model',
      model,
      '--data',
      spec,
      '--metric',
      'voc07,coco',
      '--out',
      join(tmp, 'single'),
      '--json',
    ]);
    expect(single.code, single.stderr).toBe(0);

    const queued = await submit('crash', spec, '--chunk', '3', '--json');
    expect(queued.code, queued.stderr).toBe(0);
    expect(JSON.parse(queued.stdout)).toMatchObject({
      name: 'crash',
      images: IMAGES,
      chunks: 10,
      created: true,
    });

    // w1 is killed as it starts its second chunk: the model is loaded, the chunk is locked by w1
    // and not finished.
    const w1 = workers.get('w1');
    if (!w1) throw new Error('no w1');
    const took = () => [...w1.log().matchAll(/took crash chunk (\d+)/g)].map((m) => Number(m[1]));
    await waitFor(() => took().length >= 2, 60_000, `w1 to take a second chunk: ${w1.log()}`);
    w1.child.kill('SIGKILL');
    const lost = took()[1];
    expect(w1.log()).not.toMatch(new RegExp(`done crash chunk ${lost}:`));

    await waitFor(() => settled('crash'), 90_000, 'the run to finish');
    const status = await runStatus(redis, 'crash');
    expect(status.chunks).toEqual({ completed: 10, failed: 0, active: 0, queued: 0 });
    expect(status.images.done).toBe(IMAGES);

    // The lost chunk was found stalled and finished by another worker.
    const run = await openRun(redis, 'crash');
    try {
      const job = await Job.fromId(run.queue, chunkJobId('crash', lost));
      expect(job?.returnvalue.worker).toMatch(/^w[23]$/);
      expect(job?.stalledCounter).toBeGreaterThanOrEqual(1);
    } finally {
      await run.close();
    }
    const logs = [...workers.values()].map((w) => w.log()).join('');
    expect(logs).toMatch(/was lost by its worker; queued again/);

    const collect = await cli([
      'queue',
      'collect',
      'crash',
      '--redis',
      redis,
      '--out',
      join(tmp, 'queued'),
      '--metric',
      'voc07,coco',
      '--json',
    ]);
    expect(collect.code, collect.stderr).toBe(0);
    const a = JSON.parse(single.stdout);
    const b = JSON.parse(collect.stdout);
    expect(b.images).toBe(IMAGES);
    expect(b.voc).toEqual(a.voc);
    expect(b.coco).toEqual(a.coco);
    expect(b.missing).toEqual([]);
    // w1 may have finished its first chunk before it died; every image was detected exactly once.
    expect(Object.values(b.workers as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(IMAGES);
    // Byte for byte the same result files: same detections, in the same image order.
    const detections = readFileSync(join(tmp, 'single', 'detections_coco.json'), 'utf8');
    expect(JSON.parse(detections).length).toBeGreaterThan(0);
    expect(readFileSync(join(tmp, 'queued', 'detections_coco.json'), 'utf8')).toBe(detections);
    expect(vocFiles(join(tmp, 'queued'))).toEqual(vocFiles(join(tmp, 'single')));

    // Submitting the same run again queues nothing twice; the same name for other settings is refused.
    const again = await submitRun({ redis, model, data: spec, chunk: 3, name: 'crash' });
    expect(again.created).toBe(false);
    expect((await runStatus(redis, 'crash')).chunks).toMatchObject({ completed: 10, queued: 0 });
    await expect(submitRun({ redis, model, data: spec, chunk: 4, name: 'crash' })).rejects.toThrow(
      /run crash exists with other settings/,
    );

    // Removing a collected run frees its results; the name is then unknown.
    expect(await removeRun(redis, 'crash')).toEqual({ chunks: 10 });
    await expect(runStatus(redis, 'crash')).rejects.toThrow(/no run "crash"/);
  });

  it('a corrupt image fails its chunk (named), the others finish; collect refuses unless --partial', async () => {
    const images = join(tmp, 'images-corrupt');
    cpSync(join(data, 'JPEGImages'), images, { recursive: true });
    const gt = JSON.parse(readFileSync(join(data, 'annotations', 'instances_test.json'), 'utf8'));
    const victim: string = gt.images[4].file_name;
    writeFileSync(join(images, victim), 'not a jpeg');
    const queued = await submit('corrupt', cocoSpec(images), '--chunk', '6', '--attempts', '2');
    expect(queued.code, queued.stderr).toBe(0);
    await waitFor(() => settled('corrupt'), 90_000, 'the run to settle');
    const status = await runStatus(redis, 'corrupt');
    expect(status.chunks).toEqual({ completed: 4, failed: 1, active: 0, queued: 0 });
    expect(status.failures).toHaveLength(1);
    expect(status.failures[0].chunk).toBe(0);
    expect(status.failures[0].reason).toContain(victim);

    const out = join(tmp, 'partial');
    const [shown, refused] = await Promise.all([
      cli(['queue', 'status', 'corrupt', '--redis', redis]),
      cli(['queue', 'collect', 'corrupt', '--redis', redis, '--out', out]),
    ]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/24\/30 img done, 6 failed; chunks 4 done, 1 failed, 0 running, 0 queued/);
    expect(shown.stdout).toContain(victim);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /run corrupt is not complete: 1 of 5 chunks \(6 images\) missing: chunk 0 failed/,
    );
    expect(refused.stderr).toContain(victim);
    expect(refused.stderr).toMatch(/--partial/);

    const partial = await cli([
      'queue',
      'collect',
      'corrupt',
      '--redis',
      redis,
      '--out',
      out,
      '--partial',
      '--json',
    ]);
    expect(partial.code, partial.stderr).toBe(0);
    const report = JSON.parse(partial.stdout);
    expect(report.images).toBe(IMAGES - 6);
    expect(report.missing).toEqual([expect.objectContaining({ chunk: 0, state: 'failed' })]);
    expect(partial.stderr).toMatch(/1 chunk\(s\), 6 image\(s\) left out/);
  });

  it('bad input: unreachable Redis, bad URL, unknown run, missing model', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const [unreachable, badUrl] = await Promise.all([
      cli(['queue', 'status', 'x', '--redis', dead]),
      cli(['queue', 'worker', '--redis', 'localhost:6379']),
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/not a redis:\/\/ URL/);
    // The rest are ResdetErrors (exit 1) and not usage errors (exit 2), as the CLI maps them.
    const unknown = collectRun({ redis, run: 'nope' });
    await expect(unknown).rejects.toThrow(/no run "nope"/);
    await expect(unknown).rejects.not.toBeInstanceOf(UsageError);
    const noModel = submitRun({
      redis,
      model: join(tmp, 'missing-model'),
      data: cocoSpec(join(data, 'JPEGImages')),
    });
    await expect(noModel).rejects.toThrow(/missing-model: not a resdet checkpoint/);
    await expect(noModel).rejects.not.toBeInstanceOf(UsageError);
  });
});
