import { copyFileSync, existsSync, linkSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { ResdetError } from '../../core/errors.js';
import { readClassesFile } from './classes.js';
import type { DetectionDataset, DetectionSample } from './types.js';
import { vocImageId } from './voc.js';
import {
  cocoInstances,
  prepareVocRoot,
  type WritableSample,
  writeCocoJson,
  writeVocAnnotation,
  writeVocSplit,
} from './write.js';

function samples(ds: DetectionDataset): DetectionSample[] {
  return Array.from({ length: ds.length }, (_, i) => ds.get(i));
}

/** The deepest folder holding every path (the COCO image folder of a converted set). */
function commonDir(paths: string[]): string {
  if (paths.length === 0) return '.';
  let parts = dirname(paths[0]).split(sep);
  for (const p of paths.slice(1)) {
    const other = dirname(p).split(sep);
    let k = 0;
    while (k < parts.length && k < other.length && parts[k] === other[k]) k++;
    parts = parts.slice(0, k);
  }
  return parts.join(sep) || sep;
}

export interface ConvertSummary {
  images: number;
  objects: number;
  /** Where the images are: for COCO output, the IMAGE_DIR to use in coco:OUT.json:IMAGE_DIR. */
  imageDir: string;
}

/**
 * Writes a dataset as a COCO instances file. Images stay where they are; file_name is relative to
 * their common folder (the returned imageDir). Category ids are the dataset's (COCO) or 1..K.
 */
export function convertToCoco(ds: DetectionDataset, outJson: string): ConvertSummary {
  const list = samples(ds);
  const imageDir = commonDir(list.map((s) => s.path));
  const writable: WritableSample[] = list.map((s) => ({ ...s, fileName: relative(imageDir, s.path) }));
  writeCocoJson(outJson, cocoInstances(writable, ds.classes, ds.categoryIds));
  return { images: list.length, objects: list.reduce((n, s) => n + s.labels.length, 0), imageDir };
}

/** Puts an image into JPEGImages: a hard link when possible, else a copy; non-JPEG is re-encoded. */
async function placeImage(src: string, dest: string): Promise<void> {
  if (existsSync(dest)) return;
  const ext = extname(src).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') {
    try {
      linkSync(src, dest);
    } catch {
      copyFileSync(src, dest);
    }
    return;
  }
  await sharp(src).jpeg({ quality: 95 }).toFile(dest);
}

/**
 * Writes a dataset as a VOC tree under outRoot (Annotations, ImageSets/Main/<split>.txt,
 * JPEGImages, classes.txt). File stems come from the image file names; when two images share a
 * stem the image id is used instead. Boxes are rounded to whole pixels (see vocXml).
 */
export async function convertToVoc(
  ds: DetectionDataset,
  outRoot: string,
  split: string,
): Promise<ConvertSummary> {
  const existing = readClassesFile(outRoot);
  if (existing && existing.join('\n') !== ds.classes.join('\n')) {
    throw new ResdetError(
      `${outRoot}: classes.txt holds different classes than ${ds.name}`,
      'convert into an empty folder, or one written from a set with the same classes',
    );
  }
  prepareVocRoot(outRoot, ds.classes);
  mkdirSync(join(outRoot, 'JPEGImages'), { recursive: true });
  const list = samples(ds);
  const stems = new Map<string, number>();
  for (const s of list) {
    const stem = basename(s.path, extname(s.path));
    stems.set(stem, (stems.get(stem) ?? 0) + 1);
  }
  const ids: string[] = [];
  for (const s of list) {
    let stem = basename(s.path, extname(s.path));
    if ((stems.get(stem) ?? 0) > 1) stem = String(s.imageId);
    ids.push(stem);
    await placeImage(s.path, join(outRoot, 'JPEGImages', `${stem}.jpg`));
    writeVocAnnotation(
      outRoot,
      { ...s, id: stem, imageId: vocImageId(stem) ?? s.imageId, fileName: `${stem}.jpg` },
      ds.classes,
    );
  }
  writeVocSplit(outRoot, split, ids);
  return {
    images: list.length,
    objects: list.reduce((n, s) => n + s.labels.length, 0),
    imageDir: join(outRoot, 'JPEGImages'),
  };
}
