import { type Command, Option } from 'commander';
import { describeError, UsageError } from '../../core/errors.js';
import { DEFAULTS } from '../../server/app.js';
import { loadModels, loadModelsInWorker } from '../../server/models.js';
import { startServer } from '../../server/start.js';
import { parseIntOption, useBackend } from '../common.js';

interface ServeOptions {
  detector: string;
  classifier?: string;
  port: number;
  host: string;
  maxBody: number;
  maxPixels: number;
  concurrency: number;
  queue: number;
  timeoutMs: number;
  drainTimeoutMs: number;
  inferenceThread: 'auto' | 'worker' | 'main';
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "20mb", "512kb", "1048576" -> bytes (binary units, as Express's body limits read them). */
export function parseSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b)?\s*$/i.exec(value);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes < 1)
    throw new UsageError(`--max-body: expected a size like 20mb, 512kb or 1048576, got "${value}"`);
  return bytes;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve a detector (and optionally a classifier) over HTTP, with a web page at /')
    .requiredOption('--detector <dir>', 'detector checkpoint directory')
    .option(
      '--classifier <dir>',
      'classifier checkpoint directory (enables /v1/classify and top-5 on the page)',
    )
    .option('--port <n>', 'TCP port (0 picks a free one)', parseIntOption('--port', 0), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--max-body <size>', 'largest request body (413 above)', parseSize, DEFAULTS.maxBodyBytes)
    .option(
      '--max-pixels <n>',
      'largest image, width x height, checked from the header before decoding (400 above)',
      parseIntOption('--max-pixels', 1),
      DEFAULTS.maxPixels,
    )
    .option(
      '--concurrency <n>',
      'inference jobs running at once',
      parseIntOption('--concurrency', 1),
      DEFAULTS.concurrency,
    )
    .option(
      '--queue <n>',
      'inference jobs waiting (503 + Retry-After beyond)',
      parseIntOption('--queue', 0),
      DEFAULTS.queue,
    )
    .option(
      '--timeout-ms <ms>',
      'per-request limit on queue wait + decode + inference (504 past it; 0: none)',
      parseIntOption('--timeout-ms', 0),
      DEFAULTS.timeoutMs,
    )
    .option(
      '--drain-timeout-ms <ms>',
      'on SIGTERM, how long in-flight requests may take before connections are cut',
      parseIntOption('--drain-timeout-ms', 0),
      30_000,
    )
    .addOption(
      new Option(
        '--inference-thread <where>',
        'run the models in a worker thread (HTTP stays responsive while they run) or on the main thread; ' +
          'auto: worker for the wasm and cpu backends, main for the native and GPU ones',
      )
        .choices(['auto', 'worker', 'main'])
        .default('auto'),
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      if (opts.port > 65535) throw new UsageError(`--port: expected 0..65535, got ${opts.port}`);
      const backend = await useBackend(cmd);
      const dirs = { detector: opts.detector, classifier: opts.classifier };
      const inWorker =
        opts.inferenceThread === 'worker' ||
        (opts.inferenceThread === 'auto' && (backend === 'wasm' || backend === 'cpu'));
      const loading = inWorker
        ? loadModelsInWorker(dirs, backend)
        : loadModels(dirs).then((m) => ({ ...m, dispose: async () => m.dispose() }));
      // Listen straight away: /healthz answers and /readyz says "loading" until the models are in.
      const running = await startServer({
        models: loading,
        backend,
        port: opts.port,
        host: opts.host,
        maxBodyBytes: opts.maxBody,
        maxPixels: opts.maxPixels,
        concurrency: opts.concurrency,
        queue: opts.queue,
        timeoutMs: opts.timeoutMs,
        drainTimeoutMs: opts.drainTimeoutMs,
      });
      process.stdout.write(`resdet serve: listening on ${running.url} (backend ${backend})\n`);
      let models: Awaited<typeof loading>;
      try {
        models = await loading;
      } catch (err) {
        // The reason leads the shutdown lines, so the first line already says what went wrong.
        await running.shutdown(`could not load the models (${describeError(err).split('\n')[0]})`);
        throw err;
      }
      const what = [`detector ${models.detector.info.name} (${models.detector.info.arch})`];
      if (models.classifier)
        what.push(`classifier ${models.classifier.info.name} (${models.classifier.info.arch})`);
      const thread = inWorker ? 'worker thread' : 'main thread';
      process.stderr.write(`resdet serve: ready: ${what.join(', ')} on the ${thread}\n`);
      await running.closed;
      await models.dispose();
    });
}
