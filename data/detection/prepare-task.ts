/**
 * The worker task that prepares detection training images (decode, resize, flip, normalise) for
 * the loader. Runs inside data/workers/worker.ts; see data/workers/protocol.ts for the contract.
 */
import type { Normalization } from '../../core/normalization.js';
import type { TaskFn } from '../workers/protocol.js';
import { type PrepareOptions, type PreparedImage, prepareImageFile } from './transform.js';

export interface PrepareTaskArgs
  extends Normalization,
    Pick<PrepareOptions, 'channelOrder' | 'valueRange' | 'resize'> {
  maxSize: number;
}

export interface PrepareJob {
  path: string;
  width: number;
  height: number;
  boxes: Float32Array;
  labels: Int32Array;
  flip: boolean;
  minSize: number;
}

export function createTask(args: PrepareTaskArgs): TaskFn<PrepareJob, PreparedImage> {
  return async (job) => {
    const img = await prepareImageFile(
      job.path,
      job.boxes,
      job.labels,
      {
        minSize: job.minSize,
        maxSize: args.maxSize,
        flip: job.flip,
        mean: args.mean,
        std: args.std,
        channelOrder: args.channelOrder,
        valueRange: args.valueRange,
        resize: args.resize,
      },
      { width: job.width, height: job.height },
    );
    const transfer = [img.data.buffer, img.boxes.buffer] as ArrayBuffer[];
    return { value: img, transfer };
  };
}
