import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import {
  cocoInstances,
  prepareVocRoot,
  type WritableSample,
  writeCocoJson,
  writeVocSplit,
} from '../detection/write.js';
import { siblingModule, WorkerPool } from '../workers/pool.js';
import { FASHION_CLASSES, FASHION_MNIST_DIR, readFashionMnist } from './fashion.js';
import { type SynthResult, type SynthTaskArgs, synthStem } from './render-task.js';
import { SHAPE_CLASSES } from './shapes.js';

const TASK_URL = siblingModule('render-task', import.meta.url);

export type SynthKind = 'shapes' | 'fashion';

export interface SynthOptions {
  kind: SynthKind;
  out: string;
  train: number;
  test: number;
  /** Canvas side in pixels (default 320). */
  size?: number;
  seed?: number;
  /** JPEG quality (default 90). */
  quality?: number;
  /** Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist). */
  fashionDir?: string;
  /** Worker threads drawing images (default 0, or cores - 1 up to 4 for 400+ images on 4+ cores). */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthSummary {
  kind: SynthKind;
  out: string;
  classes: string[];
  images: { train: number; test: number };
  objects: { train: number; test: number };
  seconds: number;
}

export const SYNTH_DEFAULT_SIZE = 320;

/**
 * Writes a synthetic detection set as both a VOC tree and COCO json over one image folder:
 *   OUT/JPEGImages/<id>.jpg, OUT/Annotations/<id>.xml, OUT/ImageSets/Main/{train,test,trainval}.txt,
 *   OUT/classes.txt, OUT/annotations/instances_{train,test}.json
 * Image ids are 000001.. (train first, then test) and double as COCO image ids. Every image is
 * drawn from its own seed (seed, index), so a set is identical however it is generated.
 */
export async function writeSynthSet(opts: SynthOptions): Promise<SynthSummary> {
  const start = performance.now();
  const size = opts.size ?? SYNTH_DEFAULT_SIZE;
  if (size < 32) throw new UsageError(`--size ${size}: must be at least 32`);
  const seed = opts.seed ?? 0;
  const classes = opts.kind === 'shapes' ? SHAPE_CLASSES : FASHION_CLASSES;
  if (opts.kind === 'fashion') {
    // Read (and validate) the idx files here, so a missing package is one clear error up front.
    const dir = opts.fashionDir ?? FASHION_MNIST_DIR;
    readFashionMnist(dir, 'train');
    readFashionMnist(dir, 't10k');
  }
  prepareVocRoot(opts.out, classes);
  const total = opts.train + opts.test;
  const digits = Math.max(6, String(total).length);
  // Drawing on the calling thread already keeps sharp's encoder threads busy; extra worker threads
  // pay off only with cores to spare (measured: on 2 busy cores they were slower) and many images.
  const cores = availableParallelism();
  const workers = opts.workers ?? (cores >= 4 && total >= 400 ? Math.min(4, cores - 1) : 0);
  const pool = new WorkerPool<SynthTaskArgs, number, SynthResult>({
    module: TASK_URL,
    args: {
      kind: opts.kind,
      out: opts.out,
      size,
      seed,
      quality: opts.quality ?? 90,
      train: opts.train,
      digits,
      fashionDir: opts.fashionDir,
    },
    workers,
  });
  const samples: WritableSample[] = new Array(total);
  let next = 0;
  let done = 0;
  // A few images in flight per thread: one is drawn while others are being JPEG-encoded.
  const lane = async () => {
    while (next < total) {
      const i = next++;
      const { value } = await pool.run(i);
      const id = synthStem(i, digits);
      const n = value.labels.length;
      samples[i] = {
        id,
        imageId: i + 1,
        fileName: `${id}.jpg`,
        width: size,
        height: size,
        boxes: value.boxes,
        labels: value.labels,
        difficult: new Uint8Array(n),
        crowd: new Uint8Array(n),
      };
      opts.onProgress?.(++done, total);
    }
  };
  try {
    await Promise.all(Array.from({ length: 3 * Math.max(1, workers) }, lane));
  } finally {
    await pool.close();
  }

  const train = samples.slice(0, opts.train);
  const test = samples.slice(opts.train);
  writeVocSplit(
    opts.out,
    'train',
    train.map((s) => s.id),
  );
  writeVocSplit(
    opts.out,
    'trainval',
    train.map((s) => s.id),
  );
  writeVocSplit(
    opts.out,
    'test',
    test.map((s) => s.id),
  );
  writeCocoJson(join(opts.out, 'annotations', 'instances_train.json'), cocoInstances(train, classes));
  writeCocoJson(join(opts.out, 'annotations', 'instances_test.json'), cocoInstances(test, classes));
  const count = (list: WritableSample[]) => list.reduce((a, s) => a + s.labels.length, 0);
  return {
    kind: opts.kind,
    out: opts.out,
    classes: [...classes],
    images: { train: train.length, test: test.length },
    objects: { train: count(train), test: count(test) },
    seconds: (performance.now() - start) / 1000,
  };
}
