/**
 * An indexed COCO dataset with pycocotools' query methods (getImgIds, getCatIds, getAnnIds,
 * loadImgs/loadAnns/loadCats, loadRes), written from the format's documentation. Input is
 * validated on construction; a bad record is an error that names the file and the record.
 */
import { ResdetError } from '../../core/errors.js';
import { checkedKeypoints, keypointAreaAndBox, maskAreaAndBox, segmentationRle } from './segmentation.js';
import type { CocoAnnotation, CocoBox, CocoCategory, CocoImage, CocoResult } from './types.js';
import { asRecord, RecordRef, requireBox, requireId, requireNumber } from './validate.js';

export interface AnnFilter {
  imgIds?: readonly number[];
  catIds?: readonly number[];
  /** Keep annotations with lo < area < hi (strict, as pycocotools). */
  areaRng?: readonly [number, number];
  iscrowd?: boolean | number;
}

function arrayField(json: Record<string, unknown>, field: string, source: string): unknown[] {
  const v = json[field];
  if (v === undefined)
    throw new ResdetError(
      `${source}: missing "${field}"`,
      'a COCO instances file has images, annotations and categories',
    );
  if (!Array.isArray(v)) throw new ResdetError(`${source}: "${field}" must be an array`);
  return v;
}

export class CocoDataset {
  readonly source: string;
  readonly images = new Map<number, CocoImage>();
  readonly cats = new Map<number, CocoCategory>();
  readonly anns = new Map<number, CocoAnnotation>();
  /** Annotations of each image, in file order. */
  readonly imgToAnns = new Map<number, CocoAnnotation[]>();
  readonly catToImgs = new Map<number, number[]>();
  /** The annotations in file order. */
  readonly annotations: CocoAnnotation[];

  private constructor(source: string, images: CocoImage[], cats: CocoCategory[], anns: CocoAnnotation[]) {
    this.source = source;
    for (const img of images) this.images.set(img.id, img);
    for (const c of cats) this.cats.set(c.id, c);
    this.annotations = anns;
    for (const a of anns) {
      this.anns.set(a.id, a);
      const list = this.imgToAnns.get(a.image_id);
      if (list) list.push(a);
      else this.imgToAnns.set(a.image_id, [a]);
      const imgs = this.catToImgs.get(a.category_id);
      if (imgs) imgs.push(a.image_id);
      else this.catToImgs.set(a.category_id, [a.image_id]);
    }
  }

  /**
   * Validates and indexes an instances document (a parsed JSON object). `source` names it in
   * errors (a file path, or e.g. "request body").
   */
  static fromJson(json: unknown, source = 'COCO dataset'): CocoDataset {
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new ResdetError(
        `${source}: expected a COCO instances object with images, annotations and categories`,
        Array.isArray(json) ? 'this looks like a results list; pass it as detections instead' : undefined,
      );
    const doc = json as Record<string, unknown>;
    const rawImages = arrayField(doc, 'images', source);
    const rawCats = arrayField(doc, 'categories', source);
    const rawAnns = arrayField(doc, 'annotations', source);

    const images: CocoImage[] = [];
    const imageIds = new Set<number>();
    rawImages.forEach((v, i) => {
      const ref = new RecordRef(source, 'images', i);
      const rec = asRecord(v, ref);
      const id = requireId(rec, 'id', ref);
      if (imageIds.has(id)) new RecordRef(source, 'images', i, id).fail('duplicate image id');
      imageIds.add(id);
      images.push(rec as CocoImage);
    });

    const cats: CocoCategory[] = [];
    const catIds = new Set<number>();
    rawCats.forEach((v, i) => {
      const ref = new RecordRef(source, 'categories', i);
      const rec = asRecord(v, ref);
      const id = requireId(rec, 'id', ref);
      if (catIds.has(id)) new RecordRef(source, 'categories', i, id).fail('duplicate category id');
      if (rec.name !== undefined && typeof rec.name !== 'string')
        new RecordRef(source, 'categories', i, id).fail('"name" must be a string');
      catIds.add(id);
      cats.push(rec as CocoCategory);
    });

    const anns: CocoAnnotation[] = new Array(rawAnns.length);
    const annIds = new Set<number>();
    for (let i = 0; i < rawAnns.length; i++) {
      let ref = new RecordRef(source, 'annotations', i);
      const rec = asRecord(rawAnns[i], ref);
      const id = requireId(rec, 'id', ref);
      ref = new RecordRef(source, 'annotations', i, id);
      if (annIds.has(id)) ref.fail('duplicate annotation id');
      annIds.add(id);
      const imageId = requireId(rec, 'image_id', ref);
      if (!imageIds.has(imageId)) ref.fail(`image_id ${imageId} is not in "images"`);
      const catId = requireId(rec, 'category_id', ref);
      if (!catIds.has(catId)) ref.fail(`category_id ${catId} is not in "categories"`);
      requireBox(rec, ref, true);
      const area = requireNumber(rec, 'area', ref);
      if (area < 0) ref.fail(`"area" ${area} is negative`);
      const crowd = rec.iscrowd;
      if (crowd === undefined) ref.fail('missing field "iscrowd" (0 or 1)');
      if (typeof crowd !== 'number' && typeof crowd !== 'boolean')
        ref.fail(`"iscrowd" must be 0 or 1, found ${JSON.stringify(crowd)}`);
      anns[i] = rec as CocoAnnotation;
    }
    return new CocoDataset(source, images, cats, anns);
  }

  /** Image ids (ascending) that hold all of `catIds` and are among `imgIds` when given. */
  getImgIds(filter: { imgIds?: readonly number[]; catIds?: readonly number[] } = {}): number[] {
    let ids: Set<number> = new Set(
      filter.imgIds && filter.imgIds.length > 0 ? filter.imgIds : this.images.keys(),
    );
    for (const [i, catId] of (filter.catIds ?? []).entries()) {
      const withCat = new Set(this.catToImgs.get(catId) ?? []);
      ids =
        i === 0 && !(filter.imgIds && filter.imgIds.length > 0)
          ? withCat
          : new Set([...ids].filter((x) => withCat.has(x)));
    }
    return [...ids].sort((a, b) => a - b);
  }

  /** Category ids (in file order) matching all the given name, supercategory and id lists. */
  getCatIds(
    filter: { catNms?: readonly string[]; supNms?: readonly string[]; catIds?: readonly number[] } = {},
  ): number[] {
    let cats = [...this.cats.values()];
    if (filter.catNms && filter.catNms.length > 0) cats = cats.filter((c) => filter.catNms?.includes(c.name));
    if (filter.supNms && filter.supNms.length > 0)
      cats = cats.filter((c) => c.supercategory !== undefined && filter.supNms?.includes(c.supercategory));
    if (filter.catIds && filter.catIds.length > 0) cats = cats.filter((c) => filter.catIds?.includes(c.id));
    return cats.map((c) => c.id);
  }

  /** Annotation ids: of the given images (in that order), else all; then by category, area, crowd. */
  getAnnIds(filter: AnnFilter = {}): number[] {
    let anns: CocoAnnotation[];
    if (filter.imgIds && filter.imgIds.length > 0) {
      anns = [];
      for (const id of filter.imgIds) for (const a of this.imgToAnns.get(id) ?? []) anns.push(a);
    } else anns = this.annotations;
    if (filter.catIds && filter.catIds.length > 0) {
      const cats = new Set(filter.catIds);
      anns = anns.filter((a) => cats.has(a.category_id));
    }
    if (filter.areaRng) {
      const [lo, hi] = filter.areaRng;
      anns = anns.filter((a) => a.area > lo && a.area < hi);
    }
    if (filter.iscrowd !== undefined) {
      const want = Number(filter.iscrowd);
      anns = anns.filter((a) => Number(a.iscrowd) === want);
    }
    return anns.map((a) => a.id);
  }

  loadImgs(ids: readonly number[]): CocoImage[] {
    return ids.map((id) => this.lookup(this.images, id, 'image'));
  }

  loadAnns(ids: readonly number[]): CocoAnnotation[] {
    return ids.map((id) => this.lookup(this.anns, id, 'annotation'));
  }

  loadCats(ids: readonly number[]): CocoCategory[] {
    return ids.map((id) => this.lookup(this.cats, id, 'category'));
  }

  private lookup<T>(map: Map<number, T>, id: number, what: string): T {
    const v = map.get(id);
    if (v === undefined) throw new ResdetError(`${this.source}: no ${what} with id ${id}`);
    return v;
  }

  /**
   * A dataset holding `results` (COCO results format) on this dataset's images and categories,
   * as pycocotools' loadRes does. The first result decides the kind, as there: with a `bbox`,
   * every result is a box (area = w*h; a `segmentation` or `keypoints` it has is kept); else
   * with a `segmentation`, masks (area and bbox from the mask); else with `keypoints`, keypoints
   * (area and bbox from the keypoints' extent). iscrowd = 0, id = index + 1. A result on an image
   * or category this dataset does not have is an error, as are bad boxes, masks and scores.
   */
  loadRes(results: unknown, source = 'detections'): CocoDataset {
    if (!Array.isArray(results))
      throw new ResdetError(
        `${source}: expected a list of results [{"image_id", "category_id", "bbox", "score"}, ...]`,
      );
    const first = results[0] as Record<string, unknown> | undefined;
    const has = (k: string) => first !== null && typeof first === 'object' && first[k] !== undefined;
    const kind =
      has('bbox') || !(has('segmentation') || has('keypoints'))
        ? 'bbox'
        : has('segmentation')
          ? 'segm'
          : 'keypoints';
    const anns: CocoAnnotation[] = new Array(results.length);
    for (let i = 0; i < results.length; i++) {
      const ref = new RecordRef(source, '', i);
      const rec = asRecord(results[i], ref);
      anns[i] = kind === 'bbox' ? boxResult(rec, ref, this, i) : shapeResult(rec, ref, this, i, kind);
    }
    return new CocoDataset(source, [...this.images.values()], [...this.cats.values()], anns);
  }
}

function boxResult(rec: Record<string, unknown>, ref: RecordRef, gt: CocoDataset, i: number): CocoAnnotation {
  const r = checkResult(rec, ref, gt);
  const b = r.bbox;
  const ann: CocoAnnotation = {
    id: i + 1,
    image_id: r.image_id,
    category_id: r.category_id,
    bbox: b,
    area: b[2] * b[3],
    iscrowd: 0,
    score: r.score,
  };
  if (rec.segmentation !== undefined) ann.segmentation = rec.segmentation;
  if (rec.keypoints !== undefined) ann.keypoints = rec.keypoints;
  return ann;
}

function shapeResult(
  rec: Record<string, unknown>,
  ref: RecordRef,
  gt: CocoDataset,
  i: number,
  kind: 'segm' | 'keypoints',
): CocoAnnotation {
  const { imageId, catId } = checkIds(rec, ref, gt);
  const score = checkScore(rec, ref);
  const ann: CocoAnnotation = {
    id: i + 1,
    image_id: imageId,
    category_id: catId,
    bbox: [0, 0, 0, 0],
    area: 0,
    iscrowd: 0,
    score,
  };
  if (kind === 'segm') {
    if (rec.segmentation === undefined)
      ref.fail(
        'missing field "segmentation"',
        'the first result has a mask and no bbox, so every result must have one (as pycocotools loadRes)',
      );
    ann.segmentation = rec.segmentation;
    const shape = maskAreaAndBox(segmentationRle(ann, gt.images.get(imageId), String(ref)));
    ann.area = shape.area;
    ann.bbox = shape.bbox;
  } else {
    const kp = checkedKeypoints(rec.keypoints, String(ref));
    ann.keypoints = kp;
    const shape = keypointAreaAndBox(kp);
    ann.area = shape.area;
    ann.bbox = shape.bbox;
  }
  return ann;
}

function checkIds(
  rec: Record<string, unknown>,
  ref: RecordRef,
  gt: CocoDataset,
): { imageId: number; catId: number } {
  const imageId = requireId(rec, 'image_id', ref);
  if (!gt.images.has(imageId))
    ref.fail(
      `image_id ${imageId} is not an image of the ground truth ${gt.source}`,
      'results must be on the evaluated images',
    );
  const catId = requireId(rec, 'category_id', ref);
  if (!gt.cats.has(catId))
    ref.fail(
      `category_id ${catId} is not a category of the ground truth ${gt.source} (it has ${[...gt.cats.keys()].slice(0, 12).join(', ')}${gt.cats.size > 12 ? ', ...' : ''})`,
      "map the detector's class indices to the dataset's category ids",
    );
  return { imageId, catId };
}

function checkScore(rec: Record<string, unknown>, ref: RecordRef): number {
  if (rec.score === undefined) ref.fail('missing field "score"');
  if (typeof rec.score !== 'number') ref.fail(`"score" must be a number, found ${JSON.stringify(rec.score)}`);
  if (!Number.isFinite(rec.score)) ref.fail(`"score" is ${rec.score}; scores must be finite numbers`);
  return rec.score;
}

/** Checks one result record against the GT; returns it typed. */
export function checkResult(rec: Record<string, unknown>, ref: RecordRef, gt: CocoDataset): CocoResult {
  const { imageId, catId } = checkIds(rec, ref, gt);
  const bbox: CocoBox = requireBox(rec, ref);
  return { image_id: imageId, category_id: catId, bbox, score: checkScore(rec, ref) };
}
