/** Loading COCO instances and results files from disk. */
import { ResdetError } from '../../core/errors.js';
import { CocoDataset } from './dataset.js';
import { type ReadJsonOptions, readJsonDocument } from './read-json.js';

export interface LoadCocoOptions extends ReadJsonOptions {
  /** Keep annotation segmentations (default false: evaluation of boxes does not need them). */
  keepSegmentation?: boolean;
}

/** Reads and indexes an instances file (streamed when large). */
export async function loadCocoDataset(path: string, opts: LoadCocoOptions = {}): Promise<CocoDataset> {
  const dropFields = opts.keepSegmentation ? opts.dropFields : [...(opts.dropFields ?? []), 'segmentation'];
  const doc = await readJsonDocument(path, { ...opts, dropFields });
  return CocoDataset.fromJson(doc, path);
}

/** Reads a results file (a JSON list of {image_id, category_id, bbox, score}) onto `gt`. */
export async function loadCocoResults(
  path: string,
  gt: CocoDataset,
  opts: ReadJsonOptions = {},
): Promise<CocoDataset> {
  const doc = await readJsonDocument(path, opts);
  if (!Array.isArray(doc)) {
    const hint =
      doc !== null && typeof doc === 'object' && 'annotations' in doc
        ? 'this looks like an instances file; --dt takes the results list'
        : undefined;
    throw new ResdetError(
      `${path}: expected a JSON list of detections [{"image_id", "category_id", "bbox", "score"}, ...]`,
      hint,
    );
  }
  return gt.loadRes(doc, path);
}
