import { ResdetError } from '../../core/errors.js';
import { type EvaluationSet, openEvaluationSet } from '../../detection/app/eval-set.js';
import type { ImageDetections } from '../../detection/app/evaluate.js';
import { chunkStates, openRun } from './inspect.js';
import type { RunInfo } from './run.js';

/** A chunk that collect could not take: its state, and for a failed one the reason. */
export interface MissingChunk {
  chunk: number;
  state: string;
  imageIds: number[];
  reason?: string;
}

export interface CollectedRun {
  info: RunInfo;
  /** The dataset as the submitter opened it (same spec, same skipped records). */
  set: EvaluationSet;
  /** Detections in dataset order, one entry per collected image. */
  results: ImageDetections[];
  missing: MissingChunk[];
  /** Images each worker detected. */
  workers: Record<string, number>;
}

export interface CollectOptions {
  redis: string;
  run: string;
  /** Collect what is done and report the rest as missing, instead of refusing. */
  partial?: boolean;
  warn?: (line: string) => void;
}

function describeMissing(missing: readonly MissingChunk[]): string {
  const shown = missing.slice(0, 5).map((m) => {
    const ids = m.imageIds.length > 0 ? `images ${m.imageIds[0]}..${m.imageIds[m.imageIds.length - 1]}` : '';
    return `chunk ${m.chunk} ${m.state}${ids ? ` (${ids})` : ''}${m.reason ? `: ${m.reason}` : ''}`;
  });
  return shown.join('; ') + (missing.length > 5 ? `; and ${missing.length - 5} more` : '');
}

/**
 * Gathers a run's detections in the dataset's image order. An unfinished run is refused (naming
 * what is missing) unless `partial`, which collects the finished chunks only.
 */
export async function collectRun(opts: CollectOptions): Promise<CollectedRun> {
  const run = await openRun(opts.redis, opts.run);
  try {
    const { info } = run;
    const states = await chunkStates(run, true);
    const set = await openEvaluationSet(info.data, opts.warn);
    const { dataset } = set;
    const index = new Map<number, number>();
    for (let i = 0; i < dataset.length; i++) index.set(dataset.get(i).imageId, i);
    const found: Array<ImageDetections | undefined> = new Array(dataset.length);
    const missing: MissingChunk[] = [];
    const workers: Record<string, number> = {};
    for (const s of states) {
      if (!s.result) {
        const ids: number[] = [];
        const first = s.chunk * info.chunk;
        for (let i = first; i < Math.min(info.images, first + info.chunk) && i < dataset.length; i++)
          ids.push(dataset.get(i).imageId);
        missing.push({ chunk: s.chunk, state: s.state, imageIds: ids, reason: s.reason });
        continue;
      }
      workers[s.result.worker] = (workers[s.result.worker] ?? 0) + s.result.images.length;
      for (const im of s.result.images) {
        const i = index.get(im.imageId);
        if (i === undefined || found[i])
          throw new ResdetError(
            `run ${info.name} chunk ${s.chunk}: image id ${im.imageId} is ${i === undefined ? `not in ${dataset.name}` : 'in two chunks'}`,
            'the dataset changed since the run was submitted: submit it again under a new --name',
          );
        found[i] = { sample: dataset.get(i), detections: im.detections };
      }
    }
    if (dataset.length !== info.images)
      throw new ResdetError(
        `run ${info.name}: ${dataset.name} now has ${dataset.length} images, ${info.images} when submitted`,
        'the dataset changed since the run was submitted: submit it again under a new --name',
      );
    if (missing.length > 0 && !opts.partial) {
      const left = missing.reduce((a, m) => a + m.imageIds.length, 0);
      throw new ResdetError(
        `run ${info.name} is not complete: ${missing.length} of ${info.chunks} chunks (${left} images) missing: ${describeMissing(missing)}`,
        `wait for the workers (\`resdet queue status ${info.name}\`), or pass --partial to evaluate what is done`,
      );
    }
    const results = found.filter((r): r is ImageDetections => r !== undefined);
    return { info, set, results, missing, workers };
  } finally {
    await run.close();
  }
}
