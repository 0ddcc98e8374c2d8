import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { CLASSES_FILE, classesFileText } from './classes.js';
import type { CocoInstances } from './coco-source.js';
import type { DetectionSample } from './types.js';

/** What a writer needs of an image: the sample fields plus the file name to record. */
export type WritableSample = Pick<
  DetectionSample,
  'id' | 'imageId' | 'width' | 'height' | 'boxes' | 'labels' | 'difficult' | 'crowd'
> & { fileName: string };

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * One VOC annotation file. Boxes go back to 1-based inclusive pixels: xmin = x1 + 1, xmax = x2.
 * Non-integer boxes (from COCO) are rounded to the nearest pixel edge first, so a VOC -> COCO -> VOC
 * round trip is exact and COCO -> VOC loses at most half a pixel per side.
 */
export function vocXml(s: WritableSample, classes: readonly string[], folder = 'resdet'): string {
  const lines = [
    '<annotation>',
    `\t<folder>${escapeXml(folder)}</folder>`,
    `\t<filename>${escapeXml(s.fileName)}</filename>`,
    '\t<size>',
    `\t\t<width>${s.width}</width>`,
    `\t\t<height>${s.height}</height>`,
    '\t\t<depth>3</depth>',
    '\t</size>',
    '\t<segmented>0</segmented>',
  ];
  for (let j = 0; j < s.labels.length; j++) {
    const x1 = Math.round(s.boxes[j * 4]);
    const y1 = Math.round(s.boxes[j * 4 + 1]);
    const x2 = Math.max(x1 + 1, Math.round(s.boxes[j * 4 + 2]));
    const y2 = Math.max(y1 + 1, Math.round(s.boxes[j * 4 + 3]));
    lines.push(
      '\t<object>',
      `\t\t<name>${escapeXml(classes[s.labels[j] - 1])}</name>`,
      '\t\t<pose>Unspecified</pose>',
      '\t\t<truncated>0</truncated>',
      `\t\t<difficult>${s.difficult[j] ? 1 : 0}</difficult>`,
    );
    // VOC has no crowd regions; resdet keeps COCO's flag in its own element so it survives.
    if (s.crowd[j]) lines.push('\t\t<crowd>1</crowd>');
    lines.push(
      '\t\t<bndbox>',
      `\t\t\t<xmin>${x1 + 1}</xmin>`,
      `\t\t\t<ymin>${y1 + 1}</ymin>`,
      `\t\t\t<xmax>${x2}</xmax>`,
      `\t\t\t<ymax>${y2}</ymax>`,
      '\t\t</bndbox>',
      '\t</object>',
    );
  }
  lines.push('</annotation>', '');
  return lines.join('\n');
}

/** Creates ROOT/{Annotations,ImageSets/Main,JPEGImages} and ROOT/classes.txt. */
export function prepareVocRoot(root: string, classes: readonly string[]): void {
  for (const d of ['Annotations', join('ImageSets', 'Main'), 'JPEGImages']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  writeFileSync(join(root, CLASSES_FILE), classesFileText(classes));
}

export function writeVocAnnotation(root: string, s: WritableSample, classes: readonly string[]): void {
  writeFileSync(join(root, 'Annotations', `${s.id}.xml`), vocXml(s, classes));
}

export function writeVocSplit(root: string, split: string, ids: readonly string[]): void {
  writeFileSync(join(root, 'ImageSets', 'Main', `${split}.txt`), ids.map((id) => `${id}\n`).join(''));
}

/**
 * A COCO instances document. Categories get ids `categoryIds` (default 1..K); annotation ids run
 * from 1. A difficult object keeps its flag as `"difficult": 1` (an extra field pycocotools ignores).
 */
export function cocoInstances(
  samples: Iterable<WritableSample>,
  classes: readonly string[],
  categoryIds?: readonly number[],
): CocoInstances {
  const catId = (label: number) => (categoryIds ? categoryIds[label - 1] : label);
  const doc: CocoInstances = {
    images: [],
    annotations: [],
    categories: classes.map((name, i) => ({ id: catId(i + 1), name, supercategory: 'none' })),
  };
  let annId = 1;
  for (const s of samples) {
    doc.images.push({ id: s.imageId, file_name: s.fileName, width: s.width, height: s.height });
    for (let j = 0; j < s.labels.length; j++) {
      const [x1, y1, x2, y2] = s.boxes.subarray(j * 4, j * 4 + 4);
      // Float32 boxes carry noise in the 8th digit; 3 decimals keep COCO's 2-decimal values exact.
      const r = (v: number) => Math.round(v * 1000) / 1000;
      const w = r(x2 - x1);
      const h = r(y2 - y1);
      doc.annotations.push({
        id: annId++,
        image_id: s.imageId,
        category_id: catId(s.labels[j]),
        bbox: [r(x1), r(y1), w, h],
        area: r(w * h),
        iscrowd: s.crowd[j] ? 1 : 0,
        ...(s.difficult[j] ? { difficult: 1 } : {}),
      });
    }
  }
  return doc;
}

export function writeCocoJson(path: string, doc: CocoInstances): void {
  mkdirSync(dirname(path), { recursive: true });
  // One record a line: readable in a pager, and no giant single line for large sets.
  const section = (items: unknown[]) => `[\n${items.map((x) => JSON.stringify(x)).join(',\n')}\n]`;
  const text = `{"info": {"description": "written by resdet"},\n"images": ${section(doc.images)},\n"annotations": ${section(doc.annotations)},\n"categories": ${section(doc.categories)}}\n`;
  writeFileAtomic(path, [text]);
}
