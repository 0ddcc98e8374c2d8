/**
 * Segmentations and keypoints of COCO records in compact form, and their conversion to masks as
 * pycocotools' COCO.annToRLE does: polygons rasterized on the image's height and width and
 * merged by union, an uncompressed RLE compressed, a compressed RLE taken as it is.
 *
 * Compact form (what the streaming reader keeps for a 448 MB instances file): polygons as
 * Float64Array per part, uncompressed RLE counts as Uint32Array, compressed RLE strings as they
 * are, keypoints as one Float64Array.
 */
import { ResdetError } from '../../core/errors.js';
import {
  checkedPolygon,
  type Rle,
  rleAreaCached,
  rleBoxCached,
  rleFromObject,
  rleFrPoly,
  rleMerge,
} from './mask.js';
import type { CocoAnnotation, CocoImage } from './types.js';

/** A segmentation as kept in memory: polygons, or an RLE object (counts string or runs). */
export type CompactSegmentation =
  | Float64Array[]
  | { size: [number, number]; counts: string | Uint32Array | number[] };

function isRunList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((n) => typeof n === 'number');
}

/**
 * The compact form of a segmentation value read from JSON; anything not recognised is returned
 * unchanged, so the record check that runs later names the problem.
 */
export function compactSegmentation(v: unknown): unknown {
  if (Array.isArray(v)) {
    if (!v.every((p) => isRunList(p))) return v;
    return v.map((p) => Float64Array.from(p as number[]));
  }
  if (v !== null && typeof v === 'object' && 'counts' in v && 'size' in v) {
    const r = v as { size: [number, number]; counts: unknown };
    if (isRunList(r.counts) && r.counts.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32))
      return { size: r.size, counts: Uint32Array.from(r.counts) };
  }
  return v;
}

/** The compact form of a keypoints list (x, y, v per keypoint), else unchanged. */
export function compactKeypoints(v: unknown): unknown {
  return isRunList(v) ? Float64Array.from(v) : v;
}

/** Fields to convert while reading instances files for segm / keypoints evaluation. */
export const COMPACT_FIELDS: Readonly<Record<string, (v: unknown) => unknown>> = {
  segmentation: compactSegmentation,
  keypoints: compactKeypoints,
};

/** The mask decoded from a record's segmentation, kept on the record (not in a WeakMap: GC). */
const RLE = Symbol('rle');
type WithRle = CocoAnnotation & { [RLE]?: Rle };

/**
 * The mask of a record's segmentation (cached per record). Polygons need the image's height
 * and width. `where` names the record in errors ("gt.json: annotations[4] (id 7)").
 */
export function segmentationRle(ann: CocoAnnotation, img: CocoImage | undefined, where: string): Rle {
  const cached = (ann as WithRle)[RLE];
  if (cached) return cached;
  const segm = ann.segmentation;
  if (segm === undefined)
    throw new ResdetError(
      `${where}: missing field "segmentation"`,
      'segm evaluation needs a mask (polygons or RLE) on every record; use --iou-type bbox for boxes',
    );
  let r: Rle;
  if (Array.isArray(segm)) {
    const h = img?.height;
    const w = img?.width;
    if (typeof h !== 'number' || typeof w !== 'number')
      throw new ResdetError(
        `${where}: polygons need the image's "height" and "width" (image ${ann.image_id} has none)`,
      );
    if (segm.length === 0) r = rleFrPoly([], h, w);
    else
      r = rleMerge(
        segm.map((p, i) => rleFrPoly(checkedPolygon(p, `${where}: segmentation[${i}]`), h, w)),
        false,
      );
  } else if (segm !== null && typeof segm === 'object' && 'counts' in segm) {
    r = rleFromObject(segm, where);
  } else
    throw new ResdetError(
      `${where}: "segmentation" must be a list of polygons or an RLE {"size", "counts"}, found ${JSON.stringify(segm)?.slice(0, 60)}`,
    );
  (ann as WithRle)[RLE] = r;
  return r;
}

/** Area and box of a mask, as loadRes gives a segm result: mask.area and mask.toBbox. */
export function maskAreaAndBox(r: Rle): { area: number; bbox: [number, number, number, number] } {
  const b = rleBoxCached(r);
  return { area: rleAreaCached(r), bbox: [b[0], b[1], b[2], b[3]] };
}

/** The keypoints of a record checked: 3K finite numbers (x, y, v per keypoint), K >= 1. */
export function checkedKeypoints(v: unknown, where: string, expectK?: number): Float64Array {
  const ok = Array.isArray(v) || v instanceof Float64Array;
  const a = v as ArrayLike<unknown>;
  if (!ok || a.length === 0 || a.length % 3 !== 0 || (expectK !== undefined && a.length !== 3 * expectK))
    throw new ResdetError(
      `${where}: "keypoints" must be 3K numbers (x, y, v for each of ${expectK ?? 'the K'} keypoints), found ${v === undefined ? 'none' : ok ? `${a.length} numbers` : JSON.stringify(v)?.slice(0, 60)}`,
      expectK === undefined ? undefined : `the category defines ${expectK} keypoints: ${3 * expectK} numbers`,
    );
  if (v instanceof Float64Array) {
    if (!v.every(Number.isFinite)) throw new ResdetError(`${where}: "keypoints" holds a non-finite number`);
    return v;
  }
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new ResdetError(`${where}: keypoints[${i}] is ${JSON.stringify(x)}, not a finite number`);
    out[i] = x;
  }
  return out;
}

/** loadRes for a keypoint result: the box of all keypoints (missing (0, 0) ones included). */
export function keypointAreaAndBox(kp: Float64Array): {
  area: number;
  bbox: [number, number, number, number];
} {
  let x0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < kp.length; i += 3) {
    const x = kp[i];
    const y = kp[i + 1];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { area: (x1 - x0) * (y1 - y0), bbox: [x0, y0, x1 - x0, y1 - y0] };
}
