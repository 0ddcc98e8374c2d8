import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { readCheckpointConfig } from '../../core/checkpoint.js';
import { ResdetError, UsageError } from '../../core/errors.js';
import { assertDetectorClasses, openEvaluationSet } from '../../detection/app/eval-set.js';
import { bullConnection, connectRedis } from './redis.js';
import {
  absoluteSpec,
  type ChunkJob,
  checkRunName,
  chunkJobId,
  defaultRunName,
  KEY_PREFIX,
  QUEUE_NAME,
  type RunInfo,
  runKey,
} from './run.js';

export interface SubmitOptions {
  redis: string;
  /** Detector checkpoint directory. */
  model: string;
  /** Dataset spec (voc:ROOT:split | coco:ANN.json[:IMAGES], + for a union). */
  data: string;
  /** Images per job (default 64). */
  chunk?: number;
  /** Run name (default run-<date>-<time>). */
  name?: string;
  /** Tries per chunk before it ends as failed (default 3). */
  attempts?: number;
  /** Told notes and bad-data summaries of the dataset. */
  warn?: (line: string) => void;
}

export interface SubmitResult {
  info: RunInfo;
  /** False when the same run had been submitted before (its existing jobs were kept). */
  created: boolean;
}

/**
 * Cuts a dataset into chunks of image ids and queues one job per chunk. Submitting the same run
 * again queues nothing twice (job ids are the run and chunk); the same name for another model,
 * dataset or chunk size is refused.
 */
export async function submitRun(opts: SubmitOptions): Promise<SubmitResult> {
  const chunk = opts.chunk ?? 64;
  if (!Number.isInteger(chunk) || chunk < 1)
    throw new UsageError(`--chunk ${chunk}: want a whole number >= 1`);
  const name = checkRunName(opts.name ?? defaultRunName());
  const model = resolve(opts.model);
  const config = readCheckpointConfig(model);
  if (config.kind !== 'detector')
    throw new ResdetError(
      `${model}: holds a ${config.kind} checkpoint, not a detector`,
      'pass a directory written by `resdet train-detector` or `resdet init --kind detector`',
    );
  const data = absoluteSpec(opts.data);
  const { dataset } = await openEvaluationSet(data, opts.warn);
  assertDetectorClasses(dataset, config.classes);
  const ids = Array.from({ length: dataset.length }, (_, i) => dataset.get(i).imageId);
  const info: RunInfo = {
    name,
    model,
    data,
    chunk,
    images: ids.length,
    chunks: Math.ceil(ids.length / chunk),
    submittedAt: Date.now(),
  };
  const redis = await connectRedis(opts.redis);
  const queue = new Queue<ChunkJob>(QUEUE_NAME, {
    connection: bullConnection(opts.redis),
    prefix: KEY_PREFIX,
  });
  try {
    const created = (await redis.set(runKey(name), JSON.stringify(info), 'NX')) === 'OK';
    if (!created) {
      const old = JSON.parse((await redis.get(runKey(name))) ?? '{}') as Partial<RunInfo>;
      if (old.model !== model || old.data !== data || old.chunk !== chunk || old.images !== info.images)
        throw new UsageError(
          `run ${name} exists with other settings (model ${old.model}, data ${old.data}, chunk ${old.chunk}, ${old.images} images)`,
          'choose another --name',
        );
      Object.assign(info, old);
    }
    const jobs = [];
    for (let c = 0; c < info.chunks; c++) {
      const jobData: ChunkJob = {
        run: name,
        chunk: c,
        model,
        data,
        imageIds: ids.slice(c * chunk, (c + 1) * chunk),
      };
      jobs.push({
        name: 'detect',
        data: jobData,
        opts: {
          jobId: chunkJobId(name, c),
          attempts: opts.attempts ?? 3,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      });
    }
    // Existing ids are left as they are: a second submit neither duplicates nor resets a chunk.
    for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
    return { info, created };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
