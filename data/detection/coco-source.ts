import { ResdetError } from '../../core/errors.js';
import { readJsonDocument } from '../coco/read-json.js';
import type { CocoAnnotation, CocoCategory, CocoImage } from '../coco/types.js';

/**
 * Reads a COCO instances file with the evaluation area's reader (data/coco: one JSON.parse for
 * small files, streamed for large ones, segmentations dropped). The records are then checked by
 * the detection reader (coco.ts) rather than by CocoDataset.fromJson, because training data must
 * list every bad record and, with --skip-bad, go on without them; fromJson stops at the first.
 */
export interface CocoInstances {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

export async function readCocoInstances(path: string): Promise<CocoInstances> {
  const doc = (await readJsonDocument(path, { dropFields: ['segmentation'] })) as Partial<CocoInstances>;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ResdetError(`${path}: expected a COCO instances object`, 'a results list is not a dataset');
  }
  for (const field of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(doc[field])) {
      throw new ResdetError(`${path}: missing the "${field}" array`, 'expected a COCO instances file');
    }
  }
  return doc as CocoInstances;
}
