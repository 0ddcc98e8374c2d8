import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import { type ArrayDetectionDataset, buildDataset, type RawImage } from './build.js';
import type { CocoCategory } from '../coco/types.js';
import { type CocoInstances, readCocoInstances } from './coco-source.js';
import type { DataProblem, OpenOptions } from './types.js';

/**
 * COCO instances JSON + an image folder. Categories become labels 1..K in ascending category-id
 * order (COCO's 80 ids 1..90 -> 1..80); `categoryIds` maps back. Boxes `[x, y, w, h]` become
 * `[x, y, x + w, y + h]`. Crowd annotations are kept (flagged) but are never training targets.
 */

export interface CocoLabelMap {
  classes: string[];
  /** categoryIds[l - 1] = the COCO category id of label l. */
  categoryIds: number[];
  labelOf: Map<number, number>;
}

export function cocoLabelMap(categories: readonly CocoCategory[]): CocoLabelMap {
  const sorted = [...categories].sort((a, b) => a.id - b.id);
  return {
    classes: sorted.map((c) => c.name),
    categoryIds: sorted.map((c) => c.id),
    labelOf: new Map(sorted.map((c, i) => [c.id, i + 1])),
  };
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * Where the images of ANN.json are when the spec does not say: next to the annotations folder,
 * as JPEGImages/ (resdet's synthetic and converted sets), images/, or <split>2017/ (COCO's own
 * layout: annotations/instances_val2017.json -> val2017/); else the JSON's own folder.
 */
export function defaultCocoImageDir(annPath: string): string {
  const annDir = dirname(annPath);
  const parent = dirname(annDir);
  const split = /^instances_(.+)\.json$/.exec(basename(annPath))?.[1];
  const candidates = [join(parent, 'JPEGImages'), join(parent, 'images')];
  if (split) candidates.push(join(parent, split), join(parent, 'images', split));
  return candidates.find(isDir) ?? annDir;
}

export interface CocoOpenOptions extends OpenOptions {
  /** Parsed instances, when the caller already has them (else read from annPath). */
  instances?: CocoInstances;
}

export async function openCoco(
  annPath: string,
  imageDir?: string,
  opts: CocoOpenOptions = {},
): Promise<ArrayDetectionDataset> {
  const doc = opts.instances ?? (await readCocoInstances(annPath));
  const dir = imageDir ?? defaultCocoImageDir(annPath);
  if (!isDir(dir)) {
    throw new ResdetError(
      `${dir}: image folder not found (for ${annPath})`,
      'give it as coco:ANN.json:IMAGE_DIR',
    );
  }
  const map = cocoLabelMap(doc.categories);
  const problems: DataProblem[] = [];
  const byId = new Map<number, RawImage>();
  const images: RawImage[] = [];
  doc.images.forEach((im, k) => {
    const record = `image id ${im?.id ?? `#${k}`}`;
    if (!im || typeof im !== 'object' || typeof im.id !== 'number' || typeof im.file_name !== 'string') {
      problems.push({
        kind: 'bad-record',
        file: annPath,
        record,
        message: 'image needs a numeric id and a file_name',
        skips: 'image',
      });
      return;
    }
    const raw: RawImage = {
      file: annPath,
      record,
      id: String(im.id),
      imageId: im.id,
      path: join(dir, im.file_name),
      width: Number(im.width),
      height: Number(im.height),
      objects: [],
    };
    images.push(raw);
    // A duplicate image id is reported by buildDataset; annotations go to the first one.
    if (!byId.has(im.id)) byId.set(im.id, raw);
  });
  const annIds = new Set<number>();
  for (const [k, a] of doc.annotations.entries()) {
    const record = `annotation id ${a?.id ?? `#${k}`}`;
    const bad = (kind: DataProblem['kind'], message: string): void => {
      problems.push({ kind, file: annPath, record, message, skips: 'object' });
    };
    if (!a || typeof a !== 'object') {
      bad('bad-record', 'not an object');
      continue;
    }
    if (annIds.has(a.id)) {
      bad('duplicate-id', `duplicate annotation id ${a.id}`);
      continue;
    }
    annIds.add(a.id);
    // pycocotools matches image ids by value and type: "1" is not image 1, so it is not guessed here.
    if (typeof a.image_id !== 'number') {
      bad('bad-record', `image_id ${JSON.stringify(a.image_id)} must be a number`);
      continue;
    }
    const img = byId.get(a.image_id);
    if (!img) {
      bad('bad-record', `image_id ${a.image_id} is not in "images"`);
      continue;
    }
    if (!Array.isArray(a.bbox) || a.bbox.length !== 4) {
      bad('bad-record', 'bbox must be [x, y, w, h]');
      continue;
    }
    const [x, y, w, h] = a.bbox.map(Number);
    const category = Number(a.category_id);
    img.objects.push({
      record,
      label: map.labelOf.get(category),
      className: `category_id ${a.category_id}`,
      box: [x, y, x + w, y + h],
      difficult: a.difficult === 1,
      crowd: a.iscrowd === 1,
    });
  }
  const name = `coco:${annPath}`;
  return buildDataset(name, map.classes, images, opts, problems, map.categoryIds);
}
