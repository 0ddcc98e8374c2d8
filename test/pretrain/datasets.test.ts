import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ResdetError } from '../../core/errors.js';
import { loadCifar10 } from '../../data/classification/cifar10.js';
import { loadFashionMnist } from '../../data/classification/fashion-mnist.js';
import { loadFolderDataset } from '../../data/classification/folder.js';
import { parseIdx } from '../../data/classification/idx.js';
import { loadImagenet } from '../../data/classification/imagenet.js';
import { parseDataSpec } from '../../data/classification/spec.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'resdet-cls-'));
}

function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A tiny MNIST-layout set: image i is filled with value 10*i, label i % 10. */
function writeMnistLike(dir: string, prefix: string, n: number, gz: boolean): void {
  const images = new Uint8Array(n * 28 * 28);
  for (let i = 0; i < n; i++) images.fill(10 * i, i * 784, (i + 1) * 784);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const write = (name: string, buf: Buffer) =>
    gz ? writeFileSync(join(dir, `${name}.gz`), gzipSync(buf)) : writeFileSync(join(dir, name), buf);
  write(`${prefix}-images-idx3-ubyte`, idx([n, 28, 28], images));
  write(`${prefix}-labels-idx1-ubyte`, idx([n], labels));
}

describe('Fashion-MNIST idx files', () => {
  it.each([true, false])('reads gzipped=%s files', (gz) => {
    const dir = tmp();
    writeMnistLike(dir, 'train', 12, gz);
    writeMnistLike(dir, 't10k', 5, gz);
    const data = loadFashionMnist(dir);
    expect(data.train.kind).toBe('memory');
    expect(data.train.labels.length).toBe(12);
    expect(data.test.labels.length).toBe(5);
    if (data.train.kind !== 'memory') return;
    expect([data.train.height, data.train.width, data.train.channels]).toEqual([28, 28, 1]);
    expect(data.train.pixels[3 * 784 + 100]).toBe(30);
    expect(Array.from(data.train.labels.slice(9, 12))).toEqual([9, 0, 1]);
    expect(data.train.classes[9]).toBe('Ankle boot');
  });

  it('names the file and the problem for truncated or mismatched data', () => {
    const full = idx([4, 2, 2], new Uint8Array(16));
    expect(() => parseIdx(full.subarray(0, full.length - 3), 'x.idx')).toThrow(/x\.idx: IDX size mismatch/);
    expect(() => parseIdx(Buffer.from([1, 2, 3, 4]), 'y.idx')).toThrow(/y\.idx: not an IDX file/);
    const dir = tmp();
    writeMnistLike(dir, 'train', 3, true);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([2], new Uint8Array(2))));
    writeMnistLike(dir, 't10k', 2, true);
    expect(() => loadFashionMnist(dir)).toThrow(/3 images but 2 labels/);
    expect(() => loadFashionMnist(join(dir, 'nope'))).toThrow(ResdetError);
  });

  it('reads the installed dataset when present (60k/10k, 28x28)', () => {
    let data: ReturnType<typeof loadFashionMnist>;
    try {
      data = loadFashionMnist();
    } catch {
      return; // CI installs dataset-fashion-mnist; a developer machine may not have it
    }
    expect(data.train.labels.length).toBe(60000);
    expect(data.test.labels.length).toBe(10000);
  });
});

describe('CIFAR-10 binary batches', () => {
  it('converts planar records to HWC pixels and reads all six files', () => {
    const root = tmp();
    const dir = join(root, 'cifar-10-batches-bin');
    mkdirSync(dir);
    const record = (label: number, seed: number) => {
      const r = Buffer.alloc(3073);
      r[0] = label;
      for (let p = 0; p < 1024; p++) {
        r[1 + p] = (seed + p) % 256; // R plane
        r[1 + 1024 + p] = (seed + 2 * p) % 256; // G plane
        r[1 + 2048 + p] = (seed + 3 * p) % 256; // B plane
      }
      return r;
    };
    for (let b = 1; b <= 5; b++)
      writeFileSync(join(dir, `data_batch_${b}.bin`), Buffer.concat([record(b, b), record(0, 7)]));
    writeFileSync(join(dir, 'test_batch.bin'), record(9, 3));
    const data = loadCifar10(root);
    expect(data.train.labels.length).toBe(10);
    expect(Array.from(data.train.labels.slice(0, 4))).toEqual([1, 0, 2, 0]);
    if (data.train.kind !== 'memory') throw new Error('expected memory set');
    // Pixel p of image 0 (seed 1): HWC triplet = (1+p, 1+2p, 1+3p).
    const p = 37;
    expect(Array.from(data.train.pixels.slice(3 * p, 3 * p + 3))).toEqual([1 + p, 1 + 2 * p, 1 + 3 * p]);
    expect(data.test.labels[0]).toBe(9);
    writeFileSync(join(dir, 'test_batch.bin'), Buffer.alloc(3000));
    expect(() => loadCifar10(dir)).toThrow(/test_batch\.bin: 3000 bytes is not a whole number/);
  });
});

async function png(path: string, v: number): Promise<void> {
  await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: v, g: v, b: v } } })
    .png()
    .toFile(path);
}

describe('image-file datasets', () => {
  it('folder: class subfolders, every 10th image of a class held out', async () => {
    const root = tmp();
    for (const cls of ['cat', 'dog']) {
      mkdirSync(join(root, cls));
      for (let i = 0; i < 10; i++) await png(join(root, cls, `${i}.png`), i);
    }
    writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
    const data = loadFolderDataset(root);
    expect(data.train.classes).toEqual(['cat', 'dog']);
    expect(data.train.labels.length).toBe(18);
    expect(data.test.labels.length).toBe(2);
    expect(Array.from(data.test.labels)).toEqual([0, 1]);
  });

  it('imagenet: flat val with LOC_val_solution.csv or a <file> <index> list', async () => {
    const root = tmp();
    for (const wnid of ['n02', 'n01']) {
      mkdirSync(join(root, 'train', wnid), { recursive: true });
      await png(join(root, 'train', wnid, `${wnid}_1.JPEG`), 1);
    }
    mkdirSync(join(root, 'val'));
    await png(join(root, 'val', 'ILSVRC2012_val_00000001.JPEG'), 2);
    await png(join(root, 'val', 'ILSVRC2012_val_00000002.JPEG'), 3);
    writeFileSync(
      join(root, 'LOC_val_solution.csv'),
      'ImageId,PredictionString\nILSVRC2012_val_00000001,n02 1 2 3 4\nILSVRC2012_val_00000002,n01 1 2 3 4\n',
    );
    let data = loadImagenet(root);
    expect(data.train.classes).toEqual(['n01', 'n02']);
    expect(Array.from(data.test.labels)).toEqual([1, 0]);
    const listRoot = tmp();
    mkdirSync(join(listRoot, 'train', 'n05'), { recursive: true });
    await png(join(listRoot, 'train', 'n05', 'a.JPEG'), 1);
    mkdirSync(join(listRoot, 'val'));
    await png(join(listRoot, 'val', 'v1.JPEG'), 1);
    writeFileSync(join(listRoot, 'val.txt'), 'v1.JPEG 0\n');
    data = loadImagenet(listRoot);
    expect(Array.from(data.test.labels)).toEqual([0]);
    writeFileSync(join(listRoot, 'val.txt'), 'v1.JPEG 4\n');
    expect(() => loadImagenet(listRoot)).toThrow(/val\.txt:1: expected "<file> <index in 0\.\.0>"/);
  });

  it('parses dataset specs and rejects unknown kinds with a usage error', () => {
    expect(parseDataSpec('cifar10:/d')).toEqual({ kind: 'cifar10', root: '/d' });
    expect(parseDataSpec('fashion-mnist').root).toBe('/usr/share/datasets/fashion-mnist');
    expect(() => parseDataSpec('mnist:/x')).toThrow(/unknown dataset kind/);
    expect(() => parseDataSpec('imagenet:')).toThrow(/needs a path/);
  });
});
