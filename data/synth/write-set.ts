import { join } from 'node:path';
import sharp from 'sharp';
import { UsageError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import {
  cocoInstances,
  prepareVocRoot,
  type WritableSample,
  writeCocoJson,
  writeVocAnnotation,
  writeVocSplit,
} from '../detection/write.js';
import { deriveSeed } from '../seed.js';
import {
  FASHION_CLASSES,
  FASHION_MNIST_DIR,
  type IdxItems,
  readFashionMnist,
  renderFashionImage,
} from './fashion.js';
import { renderShapesImage, SHAPE_CLASSES, type SynthImage } from './shapes.js';

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
  let trainItems: IdxItems | undefined;
  let testItems: IdxItems | undefined;
  if (opts.kind === 'fashion') {
    const dir = opts.fashionDir ?? FASHION_MNIST_DIR;
    trainItems = readFashionMnist(dir, 'train');
    testItems = readFashionMnist(dir, 't10k');
  }
  prepareVocRoot(opts.out, classes);
  const total = opts.train + opts.test;
  const digits = Math.max(6, String(total).length);
  const samples: WritableSample[] = new Array(total);
  const render = (i: number): SynthImage => {
    const rng = new Rng(deriveSeed(seed, i));
    if (opts.kind === 'shapes') return renderShapesImage(rng, size);
    return renderFashionImage(rng, size, (i < opts.train ? trainItems : testItems) as IdxItems);
  };

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const { canvas, objects } = render(i);
      const id = String(i + 1).padStart(digits, '0');
      const fileName = `${id}.jpg`;
      const n = objects.length;
      const sample: WritableSample = {
        id,
        imageId: i + 1,
        fileName,
        width: size,
        height: size,
        boxes: Float32Array.from(objects.flatMap((o) => o.box)),
        labels: Int32Array.from(objects.map((o) => o.label)),
        difficult: new Uint8Array(n),
        crowd: new Uint8Array(n),
      };
      samples[i] = sample;
      // Encoding runs on libuv's pool while the next image is drawn on this thread.
      await sharp(canvas.data, { raw: { width: size, height: size, channels: 3 } })
        .jpeg({ quality: opts.quality ?? 90 })
        .toFile(join(opts.out, 'JPEGImages', fileName));
      writeVocAnnotation(opts.out, sample, classes);
      opts.onProgress?.(++done, total);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));

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
