/**
 * Runs every resdet job end to end on tiny models in this one process, through the CLI's own
 * `main` (so flags, checkpoints and exit codes are the real ones), on the backend RESDET_BACKEND
 * names: `nosync-cpu` (synchronous reads throw) or `webgpu` with RESDET_WEBGPU_ADAPTER=null
 * (Dawn's null adapter: every shader validated). Usage: run-jobs.ts WORKDIR. Writes one JSON line
 * per job to WORKDIR/jobs.jsonl ({job, code, seconds}) and, on webgpu, the WebGPU errors
 * ({webgpuErrors, messages}); exits 0 only when every job did.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendComputesValues, initBackend, requestedBackend } from '../../core/backend.js';
import { countUncapturedErrors } from '../../core/webgpu/null-backend.js';
import { main } from '../../tools/cli.js';
import { JOBS } from './jobs.js';

const work = process.argv[2];
if (!work) throw new Error('usage: run-jobs.ts WORKDIR');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const results = join(work, 'jobs.jsonl');
writeFileSync(results, '');
const record = (line: Record<string, unknown>) =>
  writeFileSync(results, `${JSON.stringify(line)}\n`, { flag: 'a' });

const backend = requestedBackend();
await initBackend(backend);
const gpuErrors = backend === 'webgpu' ? countUncapturedErrors() : undefined;

const shapes = join(work, 'shapes');
const det = join(work, 'det');
const cls = join(work, 'cls');
const folder = join(work, 'folder');
const image = () => join(shapes, 'JPEGImages', readdirSync(join(shapes, 'JPEGImages')).sort()[0]);
const detTrain = [
  'train-detector',
  '--data',
  `voc:${shapes}:train`,
  '--out',
  det,
  '--preset',
  'cpu',
  '--min-size',
  '64',
  '--max-size',
  '64',
  '--anchor-sizes',
  '16,32,64',
  '--roi-batch',
  '8',
  '--pool-size',
  '4',
  '--images-per-batch',
  '2',
  '--checkpoint-every',
  '1',
  '--json',
];
const clsTrain = [
  'pretrain',
  '--data',
  `folder:${folder}`,
  '--arch',
  'resnet8',
  '--width',
  '4',
  '--out',
  cls,
  '--batch-size',
  '4',
  '--augment',
  'none',
  '--workers',
  '0',
  '--checkpoint-every',
  '1',
  '--json',
];

/** Runs `fn` and hands back what it wrote to stdout (still printed). */
async function withStdout(fn: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let stdout = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stdout += String(chunk);
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return { code: await fn(), stdout };
  } finally {
    process.stdout.write = write;
  }
}

async function serveJob(): Promise<number> {
  const write = process.stdout.write.bind(process.stdout);
  let url: string | undefined;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const m = /listening on (http:\/\/[^\s]+)/.exec(String(chunk));
    if (m) url = m[1];
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  const served = main([
    'serve',
    '--detector',
    det,
    '--classifier',
    cls,
    '--port',
    '0',
    '--inference-thread',
    'main',
  ]);
  try {
    for (let i = 0; i < 600 && !url; i++) await new Promise((r) => setTimeout(r, 50));
    if (!url) throw new Error('serve did not start');
    let ready = false;
    for (let i = 0; i < 600 && !ready; i++) {
      ready = (await fetch(`${url}/readyz`)).status === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    if (!ready) throw new Error('serve never became ready');
    const { readFileSync } = await import('node:fs');
    const jpeg = readFileSync(image());
    for (const path of ['/v1/detect', '/v1/classify']) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        body: jpeg,
        headers: { 'content-type': 'image/jpeg' },
      });
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    }
  } finally {
    process.stdout.write = write;
    process.emit('SIGTERM', 'SIGTERM');
  }
  return served;
}

const runs: Record<(typeof JOBS)[number], () => Promise<number>> = {
  'data synth': () =>
    main([
      'data',
      'synth',
      '--kind',
      'shapes',
      '--out',
      shapes,
      '--train',
      '4',
      '--test',
      '2',
      '--size',
      '64',
    ]),
  'init (checkpoint save)': () =>
    main([
      'init',
      '--kind',
      'detector',
      '--arch',
      'resnet18-w8',
      '--classes',
      'a,b',
      '--out',
      join(work, 'init'),
    ]),
  'train-detector': () => main([...detTrain, '--backbone', 'resnet18-w8', '--iterations', '1']),
  'train-detector --resume': () => main([...detTrain, '--resume', '--iterations', '2']),
  detect: async () => {
    // With real values (not on the null adapter) the RoI head must have run: boxes at threshold 0.
    const { code, stdout } = await withStdout(() =>
      main(['detect', '--model', det, image(), '--json', '--score-threshold', '0']),
    );
    const boxes = (JSON.parse(stdout) as { detections: unknown[] }).detections.length;
    if (code === 0 && backendComputesValues() && boxes === 0)
      throw new Error('detect found no boxes at threshold 0');
    return code;
  },
  'evaluate-detector': () =>
    main([
      'evaluate-detector',
      '--model',
      det,
      '--data',
      `voc:${shapes}:test`,
      '--out',
      join(work, 'eval'),
      '--json',
    ]),
  pretrain: () => {
    // A two-class image folder from the synthetic set's pictures.
    const files = readdirSync(join(shapes, 'JPEGImages')).sort();
    files.forEach((f, i) => {
      const dir = join(folder, i % 2 ? 'odd' : 'even');
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(shapes, 'JPEGImages', f), join(dir, f));
      copyFileSync(join(shapes, 'JPEGImages', f), join(dir, `again-${f}`));
    });
    return main([...clsTrain, '--iterations', '2']);
  },
  'pretrain --resume': () => main([...clsTrain, '--resume', '--iterations', '3']),
  evaluate: () => main(['evaluate', '--model', cls, '--json']),
  classify: () => main(['classify', '--model', cls, image(), '--json']),
  'export (checkpoint load + save)': () =>
    main([
      'export',
      '--model',
      cls,
      '--format',
      'torchvision',
      '--out',
      join(work, 'exported.safetensors'),
      '--json',
    ]),
  serve: serveJob,
};

let failed = 0;
for (const job of JOBS) {
  process.exitCode = undefined;
  const t0 = performance.now();
  // The job's stderr, kept for the record of a failed job.
  let stderr = '';
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stderr = (stderr + String(chunk)).slice(-2000);
    return writeErr(chunk, ...rest);
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runs[job]();
  } catch (err) {
    process.stderr.write(`${job}: ${(err as Error).stack ?? err}\n`);
    code = -1;
  } finally {
    process.stderr.write = writeErr;
  }
  if (code !== 0) failed++;
  const seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  record(code === 0 ? { job, code, seconds } : { job, code, seconds, stderr });
}
if (gpuErrors) record({ webgpuErrors: gpuErrors.count(), messages: gpuErrors.messages.slice(0, 5) });
process.exitCode = failed === 0 && !gpuErrors?.count() ? 0 : 1;
