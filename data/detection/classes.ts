import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The 20 PASCAL VOC classes in the devkit's order: label l is VOC_CLASSES[l - 1]. */
export const VOC_CLASSES: readonly string[] = [
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
];

/**
 * resdet's one addition to the VOC layout: ROOT/classes.txt, one class name a line in label
 * order, for sets that are not the 20 VOC classes (synthetic sets, converted COCO sets).
 */
export const CLASSES_FILE = 'classes.txt';

export function readClassesFile(root: string): string[] | undefined {
  const path = join(root, CLASSES_FILE);
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

export function classesFileText(classes: readonly string[]): string {
  return `${classes.join('\n')}\n`;
}
