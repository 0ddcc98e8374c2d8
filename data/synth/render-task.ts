/**
 * Draws, encodes and annotates one synthetic image: the unit of work of writeSynthSet, run in
 * worker threads for large sets (data/workers) or on the calling thread for small ones.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../core/rng.js';
import { writeVocAnnotation } from '../detection/write.js';
import { deriveSeed } from '../seed.js';
import type { TaskFn } from '../workers/protocol.js';
import { FASHION_CLASSES, FASHION_MNIST_DIR, readFashionMnist, renderFashionImage } from './fashion.js';
import { renderShapesImage, SHAPE_CLASSES } from './shapes.js';

export interface SynthTaskArgs {
  kind: 'shapes' | 'fashion';
  out: string;
  size: number;
  seed: number;
  quality: number;
  /** Images 0..train-1 are training images (fashion draws them from the training items). */
  train: number;
  /** Width of the zero-padded file stem. */
  digits: number;
  fashionDir?: string;
}

export interface SynthResult {
  boxes: Float32Array;
  labels: Int32Array;
}

export function synthStem(i: number, digits: number): string {
  return String(i + 1).padStart(digits, '0');
}

export function createTask(args: SynthTaskArgs): TaskFn<number, SynthResult> {
  const classes = args.kind === 'shapes' ? SHAPE_CLASSES : FASHION_CLASSES;
  return async (i) => {
    const rng = new Rng(deriveSeed(args.seed, i));
    const { canvas, objects } =
      args.kind === 'shapes'
        ? renderShapesImage(rng, args.size)
        : renderFashionImage(
            rng,
            args.size,
            readFashionMnist(args.fashionDir ?? FASHION_MNIST_DIR, i < args.train ? 'train' : 't10k'),
          );
    const id = synthStem(i, args.digits);
    const n = objects.length;
    const sample = {
      id,
      imageId: i + 1,
      fileName: `${id}.jpg`,
      width: args.size,
      height: args.size,
      boxes: Float32Array.from(objects.flatMap((o) => o.box)),
      labels: Int32Array.from(objects.map((o) => o.label)),
      difficult: new Uint8Array(n),
      crowd: new Uint8Array(n),
    };
    await sharp(canvas.data, { raw: { width: args.size, height: args.size, channels: 3 } })
      .jpeg({ quality: args.quality })
      .toFile(join(args.out, 'JPEGImages', sample.fileName));
    writeVocAnnotation(args.out, sample, classes);
    return { value: { boxes: sample.boxes, labels: sample.labels } };
  };
}
