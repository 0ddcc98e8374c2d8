/**
 * Classification datasets come in two shapes: small fixed-size sets held in memory as raw bytes
 * (Fashion-MNIST, CIFAR-10) and image files on disk decoded on demand (ImageNet, class folders).
 */

interface SetBase {
  /** For messages and metrics: e.g. `fashion-mnist:train`. */
  name: string;
  classes: string[];
  /** One class index per example. */
  labels: Int32Array;
}

export interface MemorySet extends SetBase {
  kind: 'memory';
  height: number;
  width: number;
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  /** N x H x W x C bytes, row-major. */
  pixels: Uint8Array;
}

export interface FileSet extends SetBase {
  kind: 'files';
  files: string[];
}

export type ClassificationSet = MemorySet | FileSet;

export function setLength(set: ClassificationSet): number {
  return set.labels.length;
}

/** A dataset as the trainer sees it: what it learns from and what it reports error on. */
export interface ClassificationData {
  /** The spec it came from, e.g. `fashion-mnist:/usr/share/datasets/fashion-mnist`. */
  spec: string;
  train: ClassificationSet;
  /** The held-out set (`test` for Fashion-MNIST/CIFAR, `val` for ImageNet). */
  test: ClassificationSet;
}

/** Keeps the examples at `indices`, in that order. */
export function selectExamples<T extends ClassificationSet>(
  set: T,
  indices: ArrayLike<number>,
  name?: string,
): T {
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = set.labels[indices[i]];
  if (set.kind === 'memory') {
    const stride = set.height * set.width * set.channels;
    const pixels = new Uint8Array(indices.length * stride);
    for (let i = 0; i < indices.length; i++) {
      const src = indices[i] * stride;
      pixels.set(set.pixels.subarray(src, src + stride), i * stride);
    }
    return { ...set, name: name ?? set.name, labels, pixels };
  }
  const files = Array.from(indices, (i) => set.files[i]);
  return { ...set, name: name ?? set.name, labels, files };
}
