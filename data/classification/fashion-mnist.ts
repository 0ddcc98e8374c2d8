import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import { readIdx } from './idx.js';
import type { ClassificationData, MemorySet } from './types.js';

/** Debian's dataset-fashion-mnist installs the four gzipped IDX files here. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

function loadSplit(dir: string, prefix: 'train' | 't10k', name: string): MemorySet {
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`));
  if (images.dims.length !== 3 || labels.dims.length !== 1) {
    throw new ResdetError(
      `${dir}: ${prefix} files have unexpected ranks (images ${images.dims}, labels ${labels.dims})`,
    );
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new ResdetError(
      `${dir}: ${prefix} has ${images.dims[0]} images but ${labels.dims[0]} labels`,
      'the files come from different downloads; download them again',
    );
  }
  const out = new Int32Array(labels.data.length);
  for (let i = 0; i < out.length; i++) {
    const y = labels.data[i];
    if (y >= FASHION_MNIST_CLASSES.length) {
      throw new ResdetError(`${dir}: ${prefix} label ${i} is ${y}, outside 0..9`);
    }
    out[i] = y;
  }
  return {
    kind: 'memory',
    name,
    classes: FASHION_MNIST_CLASSES,
    labels: out,
    height: images.dims[1],
    width: images.dims[2],
    channels: 1,
    pixels: images.data,
  };
}

/** Loads Fashion-MNIST (or any MNIST-layout IDX set of 10 classes) from `dir`, gzipped or not. */
export function loadFashionMnist(dir = DEFAULT_FASHION_MNIST_DIR): ClassificationData {
  if (!existsSync(dir)) {
    throw new ResdetError(
      `${dir}: Fashion-MNIST directory not found`,
      "install Debian's dataset-fashion-mnist or run `resdet data download fashion-mnist --to DIR`",
    );
  }
  return {
    spec: `fashion-mnist:${dir}`,
    train: loadSplit(dir, 'train', 'fashion-mnist:train'),
    test: loadSplit(dir, 't10k', 'fashion-mnist:test'),
  };
}
