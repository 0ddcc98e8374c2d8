import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import type { ClassificationData, FileSet } from './types.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff', '.gif']);

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name)).isDirectory()))
    .map((e) => e.name)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

function imagesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => isImageFile(n) && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * A set laid out as ROOT/<class>/<image>: classes are the sorted subfolder names (torchvision's
 * ImageFolder order). `classes` fixes the order when given (a val folder must use train's).
 */
export function scanClassFolders(root: string, name: string, classes?: string[]): FileSet {
  if (!existsSync(root)) throw new ResdetError(`${root}: directory not found`);
  const found = subdirs(root);
  if (found.length === 0) {
    throw new ResdetError(
      `${root}: no class subfolders`,
      'lay the images out as ROOT/<class name>/<image file>',
    );
  }
  const order = classes ?? found;
  const index = new Map(order.map((c, i) => [c, i]));
  const files: string[] = [];
  const labels: number[] = [];
  for (const cls of found) {
    const k = index.get(cls);
    if (k === undefined) {
      throw new ResdetError(`${join(root, cls)}: class "${cls}" is not among the training classes`);
    }
    for (const f of imagesIn(join(root, cls))) {
      files.push(f);
      labels.push(k);
    }
  }
  if (files.length === 0) throw new ResdetError(`${root}: the class folders hold no image files`);
  return { kind: 'files', name, classes: order, files, labels: Int32Array.from(labels) };
}

/**
 * `folder:ROOT`. With ROOT/train and ROOT/val (or ROOT/test) those are the splits; otherwise
 * ROOT's class folders are the data and every 10th image of each class is held out, so the split
 * is the same on every run.
 */
export function loadFolderDataset(root: string): ClassificationData {
  const trainDir = join(root, 'train');
  const heldDir = ['val', 'test'].map((d) => join(root, d)).find((d) => existsSync(d));
  if (existsSync(trainDir) && heldDir) {
    const train = scanClassFolders(trainDir, 'folder:train');
    return { spec: `folder:${root}`, train, test: scanClassFolders(heldDir, 'folder:val', train.classes) };
  }
  const all = scanClassFolders(root, 'folder:all');
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  const seen = new Map<number, number>();
  for (let i = 0; i < all.files.length; i++) {
    const k = seen.get(all.labels[i]) ?? 0;
    seen.set(all.labels[i], k + 1);
    (k % 10 === 9 ? testIdx : trainIdx).push(i);
  }
  const pick = (idx: number[], name: string): FileSet => ({
    kind: 'files',
    name,
    classes: all.classes,
    files: idx.map((i) => all.files[i]),
    labels: Int32Array.from(idx, (i) => all.labels[i]),
  });
  return { spec: `folder:${root}`, train: pick(trainIdx, 'folder:train'), test: pick(testIdx, 'folder:val') };
}
