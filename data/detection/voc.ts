import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import { readImageSet } from '../formats/image-set.js';
import { readVocXmlFile, type VocXmlAnnotation } from '../formats/voc-xml.js';
import { type ArrayDetectionDataset, buildDataset, type RawImage, type RawObject } from './build.js';
import { CLASSES_FILE, readClassesFile, VOC_CLASSES } from './classes.js';
import type { DataProblem, OpenOptions } from './types.js';

/**
 * PASCAL VOC (2007/2012 layout): ROOT/Annotations/<id>.xml, ROOT/ImageSets/Main/<split>.txt,
 * ROOT/JPEGImages/<id>.jpg, where ROOT is e.g. VOCdevkit/VOC2007. Coordinates in the XML are 1-based
 * and inclusive; they are converted to resdet's 0-based exclusive-style boxes as
 * [xmin - 1, ymin - 1, xmax, ymax] (types.ts explains the convention).
 */

export interface VocOpenOptions extends OpenOptions {
  /** Class names in label order; default: see resolveVocClasses. */
  classes?: readonly string[];
}

export const VOC_DEFAULT_SPLIT = 'trainval';

/** A numeric id for a VOC stem: "000029" -> 29, "2008_000123" -> 2008000123; else undefined. */
export function vocImageId(stem: string): number | undefined {
  if (/^\d{1,15}$/.test(stem)) return Number(stem);
  const m = /^(\d{4})_(\d{1,9})$/.exec(stem);
  if (m) return Number(m[1] + m[2].padStart(6, '0'));
  return undefined;
}

export function vocSplits(root: string): string[] {
  const dir = join(root, 'ImageSets', 'Main');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt') && !f.includes('_'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function readVocSplit(root: string, split: string): string[] {
  if (!existsSync(join(root, 'Annotations'))) {
    const nested = ['VOC2007', 'VOC2012'].filter((y) => existsSync(join(root, y, 'Annotations')));
    throw new ResdetError(
      `${root}: not a VOC root (no Annotations folder)`,
      nested.length > 0
        ? `use the year folder, e.g. voc:${join(root, nested[0])}`
        : 'ROOT must contain Annotations/, ImageSets/Main/ and JPEGImages/',
    );
  }
  const path = join(root, 'ImageSets', 'Main', `${split}.txt`);
  if (!existsSync(path)) {
    const have = vocSplits(root);
    throw new ResdetError(
      `${path}: no such split "${split}"`,
      have.length > 0 ? `splits here: ${have.join(', ')}` : 'ImageSets/Main holds no split files',
    );
  }
  return readImageSet(path);
}

/** Parsed annotation files (or why one would not parse) by path: one read of each file per open. */
export type VocXmlCache = Map<string, VocXmlAnnotation | Error>;

function readVocXml(path: string, cache?: VocXmlCache): VocXmlAnnotation | Error {
  const known = cache?.get(path);
  if (known) return known;
  let doc: VocXmlAnnotation | Error;
  try {
    doc = readVocXmlFile(path, 'lenient');
  } catch (err) {
    doc = err as Error;
  }
  cache?.set(path, doc);
  return doc;
}

/** Parses one annotation file into a RawImage, or returns the problem that prevents it. */
export function parseVocAnnotation(
  xmlPath: string,
  id: string,
  imageDir: string,
  labelOf: (name: string) => number | undefined,
  cache?: VocXmlCache,
): RawImage | DataProblem {
  const problem = (message: string): DataProblem => ({
    kind: 'bad-record',
    file: xmlPath,
    record: id,
    message,
    skips: 'image',
  });
  if (!existsSync(xmlPath)) return problem('annotation file not found');
  const doc = readVocXml(xmlPath, cache);
  // The parser's message starts with the file, which the problem names already.
  if (doc instanceof Error) return problem(doc.message.replace(`${xmlPath}: `, ''));
  const { width, height } = doc;
  if (!Number.isFinite(width) || !Number.isFinite(height)) return problem('missing or invalid <size>');
  let path = join(imageDir, `${id}.jpg`);
  if (!existsSync(path) && doc.filename && existsSync(join(imageDir, doc.filename))) {
    path = join(imageDir, doc.filename);
  }
  const objects: RawObject[] = doc.objects.map((o, k) => {
    const b = o.box;
    return {
      record: `object ${k + 1} (${o.name || 'no name'})`,
      label: labelOf(o.name),
      className: o.name,
      // 1-based inclusive -> 0-based exclusive-style: only the start moves.
      box: [b[0] - 1, b[1] - 1, b[2], b[3]],
      difficult: o.difficult,
      crowd: o.crowd,
    };
  });
  return {
    file: xmlPath,
    record: id,
    id,
    imageId: vocImageId(id) ?? 0,
    path,
    width,
    height,
    objects,
  };
}

/** Opens ROOT's split as a dataset (see VocOpenOptions for where the class names come from). */
export async function openVoc(
  root: string,
  split: string = VOC_DEFAULT_SPLIT,
  opts: VocOpenOptions = {},
): Promise<ArrayDetectionDataset> {
  const ids = readVocSplit(root, split);
  // Filled when the class list has to be read from every annotation file, so the split's own
  // files are not parsed a second time below.
  const cache: VocXmlCache = new Map();
  const { classes, note } = resolveVocClasses(root, opts.classes, cache);
  const labels = new Map(classes.map((c, i) => [c, i + 1]));
  const labelOf = (name: string) => labels.get(name);
  const images: RawImage[] = [];
  const problems: DataProblem[] = [];
  for (const id of ids) {
    const parsed = parseVocAnnotation(
      join(root, 'Annotations', `${id}.xml`),
      id,
      join(root, 'JPEGImages'),
      labelOf,
      cache,
    );
    if ('kind' in parsed) problems.push(parsed);
    else images.push(parsed);
  }
  // Stems that are not numbers get numbers after the largest numeric one, in split order.
  let next = Math.max(0, ...images.map((im) => im.imageId)) + 1;
  for (const im of images) if (im.imageId === 0 && vocImageId(im.id) === undefined) im.imageId = next++;
  return buildDataset(`voc:${root}:${split}`, classes, images, opts, problems, undefined, note ? [note] : []);
}

/** Every object class named in ROOT/Annotations, whatever the split, so all splits agree. */
export function vocAnnotationClassNames(root: string, cache?: VocXmlCache): Set<string> {
  const dir = join(root, 'Annotations');
  const names = new Set<string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.xml')) continue;
    const doc = readVocXml(join(dir, file), cache);
    if (doc instanceof Error) continue; // reported as bad data when a split that holds it is opened
    for (const o of doc.objects) if (o.name) names.add(o.name);
  }
  return names;
}

/**
 * The class list in label order: the caller's, else ROOT/classes.txt, else the 20 VOC classes
 * when at least half the names the annotations use are VOC's (so a misspelt name in a VOC set is
 * still reported as unknown), else every name the annotations use, sorted, with a note saying so:
 * a VOC-layout set of other classes works without resdet's classes.txt, and training and
 * evaluation read the same list from the same folder.
 */
export function resolveVocClasses(
  root: string,
  given?: readonly string[],
  cache?: VocXmlCache,
): { classes: readonly string[]; note?: string } {
  if (given) return { classes: given };
  const fromFile = readClassesFile(root);
  if (fromFile) return { classes: fromFile };
  const names = vocAnnotationClassNames(root, cache);
  const voc = new Set(VOC_CLASSES);
  const vocNames = [...names].filter((n) => voc.has(n)).length;
  if (2 * vocNames >= names.size) return { classes: VOC_CLASSES };
  const classes = [...names].sort();
  return {
    classes,
    note: `${root}: no ${CLASSES_FILE} and most names in the annotations are not VOC classes; using the ${classes.length} they name, sorted: ${classes.join(', ')} (write ${join(root, CLASSES_FILE)}, one name a line, to choose the order)`,
  };
}
