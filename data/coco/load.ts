/** Loading COCO instances and results files from disk. */
import { readFileSync, statSync } from 'node:fs';
import { ResdetError } from '../../core/errors.js';
import { CocoDataset } from './dataset.js';
import { type IdIndex, idIndex } from './id-index.js';
import { type ReadJsonOptions, readJsonDocument } from './read-json.js';
import { type CocoResultArrays, parseCocoResultsFast, resultsToArrays } from './results-fast.js';
import { type ResultShape, resultColumns } from './result-columns.js';
import { COMPACT_FIELDS } from './segmentation.js';
import type { CocoResult } from './types.js';

export interface LoadCocoOptions extends ReadJsonOptions {
  /**
   * Keep annotation segmentations (default false: evaluation of boxes does not need them). They
   * are kept compact: polygons as Float64Array, uncompressed RLE runs as Uint32Array, compressed
   * RLE strings as they are; keypoints as Float64Array.
   */
  keepSegmentation?: boolean;
  /** Keep keypoints as Float64Array too (default: with keepSegmentation). */
  compact?: boolean;
}

/** Reads and indexes an instances file (streamed when large). */
export async function loadCocoDataset(path: string, opts: LoadCocoOptions = {}): Promise<CocoDataset> {
  const dropFields = opts.keepSegmentation ? opts.dropFields : [...(opts.dropFields ?? []), 'segmentation'];
  // Boxes need neither masks nor keypoints: converting them would only cost time.
  const compact = opts.compact ?? opts.keepSegmentation;
  const mapFields = compact ? { ...COMPACT_FIELDS, ...opts.mapFields } : opts.mapFields;
  const doc = await readJsonDocument(path, { ...opts, dropFields, mapFields });
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

/** Results files up to this size are tried with the typed-array fast path (Buffer limit aside). */
const FAST_PATH_LIMIT = 1.5 * 2 ** 30;

/**
 * Reads a results file onto `gt` as typed arrays: the fast path for clean files; anything it
 * does not accept goes through loadCocoResults, which reports the bad record.
 */
export async function loadCocoResultArrays(
  path: string,
  gt: CocoDataset,
  opts: ReadJsonOptions & { iouType?: ResultShape } = {},
): Promise<CocoResultArrays> {
  const shape = opts.iouType ?? 'bbox';
  if (shape !== 'bbox' && !(shape === 'segm' && fastEnough(path))) {
    const dt = await loadCocoResults(path, gt, {
      ...opts,
      mapFields: { ...COMPACT_FIELDS, ...opts.mapFields },
    });
    return resultColumns(dt.annotations, shape, gt, path);
  }
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // loadCocoResults reports the missing file
  }
  if (size > 0 && size < FAST_PATH_LIMIT) {
    const fast = parseCocoResultsFast(readFileSync(path), { masks: shape === 'segm' });
    if (
      fast &&
      known(fast.imageId, idIndex(gt.images.keys())) &&
      known(fast.categoryId, idIndex(gt.cats.keys()))
    )
      return fast;
  }
  const dt = await loadCocoResults(path, gt, opts);
  if (shape === 'segm') return resultColumns(dt.annotations, shape, gt, path);
  return resultsToArrays(dt.annotations as CocoResult[]);
}

function known(ids: Float64Array, index: IdIndex): boolean {
  for (let i = 0; i < ids.length; i++) if (index.get(ids[i]) < 0) return false;
  return true;
}

function fastEnough(path: string): boolean {
  try {
    const size = statSync(path).size;
    return size > 0 && size < FAST_PATH_LIMIT;
  } catch {
    return false;
  }
}
