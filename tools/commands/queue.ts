import type { Command } from 'commander';
import { formatDuration } from '../../core/progress.js';
import { evaluateDetections, writeResultFiles } from '../../detection/app/evaluate.js';
import { collectRun } from '../../server/queue/collect.js';
import { type RunStatus, removeRun, runStatus } from '../../server/queue/inspect.js';
import { submitRun } from '../../server/queue/submit.js';
import { type QueueWorkerEvent, startQueueWorker } from '../../server/queue/worker.js';
import { parseIntOption, printJson, useBackend } from '../common.js';
import { parseMetrics, printDetectorReport } from '../detector-report.js';

const REDIS_HELP = 'Redis URL (default $RESDET_REDIS or redis://127.0.0.1:6379)';
const defaultRedis = () => process.env.RESDET_REDIS ?? 'redis://127.0.0.1:6379';
const warn = (line: string) => console.error(`resdet: ${line}`);

function describeEvent(e: QueueWorkerEvent): string {
  switch (e.type) {
    case 'active':
      return `took ${e.run} chunk ${e.chunk} (${e.images} images, try ${e.attempt})`;
    case 'completed':
      return `done ${e.run} chunk ${e.chunk}: ${e.images} images in ${e.seconds.toFixed(1)} s (${(e.images / e.seconds).toFixed(2)} img/s)`;
    case 'failed':
      return `${e.final ? 'FAILED' : 'will retry'} ${e.run} chunk ${e.chunk}: ${e.reason}`;
    case 'stalled':
      return `chunk ${e.jobId} was lost by its worker; queued again`;
    case 'error':
      return `error: ${e.message}`;
  }
}

function statusLine(s: RunStatus): string {
  const { done, failed, total } = s.images;
  const frac = total > 0 ? done / total : 1;
  const bar = `[${'#'.repeat(Math.round(frac * 24)).padEnd(24, '.')}]`;
  const c = s.chunks;
  return [
    `run ${s.info.name}`,
    bar,
    `${(frac * 100).toFixed(0)}%`,
    `${done}/${total} img done, ${failed} failed;`,
    `chunks ${c.completed} done, ${c.failed} failed, ${c.active} running, ${c.queued} queued;`,
    `${s.rate.toFixed(2)} img/s, eta ${formatDuration(s.etaSeconds)}`,
  ].join(' ');
}

export function register(program: Command): void {
  const queue = program
    .command('queue')
    .description('distributed detection and evaluation on a BullMQ (Redis) job queue');

  queue
    .command('submit')
    .description("queue a run: the dataset's image ids cut into chunks, one job each")
    .requiredOption('--model <dir>', 'detector checkpoint directory (the same path on every worker)')
    .requiredOption(
      '--data <spec>',
      'voc:ROOT:split | coco:ANN.json[:IMAGE_DIR] (same paths on every worker)',
    )
    .option('--redis <url>', REDIS_HELP)
    .option('--chunk <n>', 'images per job', parseIntOption('--chunk', 1), 64)
    .option('--name <run>', 'run name (default run-<date>-<time>)')
    .option('--attempts <n>', 'tries per chunk before it ends as failed', parseIntOption('--attempts', 1), 3)
    .option('--json', 'print the run record as JSON')
    .action(
      async (f: {
        model: string;
        data: string;
        redis?: string;
        chunk: number;
        name?: string;
        attempts: number;
        json?: boolean;
      }) => {
        const { info, created } = await submitRun({ ...f, redis: f.redis ?? defaultRedis(), warn });
        if (f.json) return printJson({ ...info, created });
        console.log(
          `${created ? 'queued' : 'already queued:'} run ${info.name}: ${info.images} images in ${info.chunks} chunks of ${info.chunk}`,
        );
        console.log(`next: resdet queue worker (any number, any machine); resdet queue status ${info.name}`);
      },
    );

  queue
    .command('worker')
    .description('take chunks from the queue and detect them until SIGTERM/SIGINT')
    .option('--redis <url>', REDIS_HELP)
    .option('--concurrency <n>', 'chunks in flight in this process', parseIntOption('--concurrency', 1), 1)
    .option('--name <name>', 'worker name written on its jobs (default host:pid)')
    .option(
      '--lock-ms <ms>',
      "a chunk's lock; a dead worker's chunk is retried after it",
      parseIntOption('--lock-ms', 100),
      30_000,
    )
    .option(
      '--stalled-ms <ms>',
      "how often to look for dead workers' chunks",
      parseIntOption('--stalled-ms', 100),
      30_000,
    )
    .action(
      async (
        f: { redis?: string; concurrency: number; name?: string; lockMs: number; stalledMs: number },
        cmd: Command,
      ) => {
        await useBackend(cmd);
        const redis = f.redis ?? defaultRedis();
        const worker = await startQueueWorker({
          redis,
          concurrency: f.concurrency,
          name: f.name,
          lockDurationMs: f.lockMs,
          stalledIntervalMs: f.stalledMs,
          onEvent: (e) => console.error(`resdet queue worker ${f.name ?? process.pid}: ${describeEvent(e)}`),
        });
        console.error(`resdet queue worker ${worker.name}: waiting for chunks on ${redis}`);
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        });
        console.error(`resdet queue worker ${worker.name}: ${signal}: finishing the chunks in flight`);
        await worker.close();
      },
    );

  queue
    .command('status')
    .description("a run's progress: chunks done, failed, running, queued; rate and ETA")
    .argument('<run>', 'run name')
    .option('--redis <url>', REDIS_HELP)
    .option('--watch', 'redraw every 2 s until nothing is running or queued')
    .option('--json', 'print the status as JSON')
    .action(async (run: string, f: { redis?: string; watch?: boolean; json?: boolean }) => {
      const redis = f.redis ?? defaultRedis();
      for (;;) {
        const s = await runStatus(redis, run);
        if (f.json) printJson({ ...s, etaSeconds: Number.isFinite(s.etaSeconds) ? s.etaSeconds : null });
        else {
          console.log(statusLine(s));
          for (const x of s.failures.slice(0, 10)) console.log(`  chunk ${x.chunk} failed: ${x.reason}`);
        }
        if (!f.watch || s.chunks.active + s.chunks.queued === 0) return;
        await new Promise((r) => setTimeout(r, 2000));
      }
    });

  queue
    .command('collect')
    .description("gather a run's detections in image order, write the result files and evaluate once")
    .argument('<run>', 'run name')
    .requiredOption('--out <dir>', 'where result files go')
    .option('--redis <url>', REDIS_HELP)
    .option(
      '--metric <list>',
      'voc07 (11-point), area (VOC2010+) or coco; comma-separated for several',
      'voc07',
    )
    .option('--partial', 'evaluate the finished chunks of an unfinished run (and list what is missing)')
    .option('--json', 'print the results as JSON')
    .action(
      async (
        run: string,
        f: { out: string; redis?: string; metric: string; partial?: boolean; json?: boolean },
      ) => {
        const metrics = parseMetrics(f.metric);
        const t0 = performance.now();
        const c = await collectRun({ redis: f.redis ?? defaultRedis(), run, partial: f.partial, warn });
        const { dataset, coco } = c.set;
        const left = c.missing.reduce((a, m) => a + m.imageIds.length, 0);
        if (c.missing.length > 0)
          warn(
            `run ${run}: --partial: ${c.missing.length} chunk(s), ${left} image(s) left out of the evaluation`,
          );
        const files = writeResultFiles(f.out, c.results, dataset.classes, dataset.categoryIds);
        const evaluation = evaluateDetections(c.results, dataset, metrics, { annotationsFile: coco });
        printDetectorReport(
          {
            model: c.info.model,
            data: dataset.name,
            images: c.results.length,
            seconds: (performance.now() - t0) / 1000,
            files,
            evaluation,
            extra: {
              run,
              workers: c.workers,
              missing: c.missing.map(({ chunk, state, reason }) => ({ chunk, state, reason })),
            },
          },
          f.json,
        );
      },
    );

  queue
    .command('remove')
    .description("delete a run's jobs, results and record from Redis (collect it first)")
    .argument('<run>', 'run name')
    .option('--redis <url>', REDIS_HELP)
    .action(async (run: string, f: { redis?: string }) => {
      const { chunks } = await removeRun(f.redis ?? defaultRedis(), run);
      console.log(`removed run ${run} (${chunks} chunks)`);
    });
}
