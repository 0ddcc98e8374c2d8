/**
 * The detection dataset contract shared by the VOC and COCO readers, the image pipeline, the
 * loader and the detector.
 *
 * Box convention (everywhere in resdet): `[x1, y1, x2, y2]` in pixels of the original image,
 * 0-based, with x2/y2 "exclusive-style" as in torchvision, so width = x2 - x1 and a box covering
 * the whole W x H image is [0, 0, W, H]. VOC XML stores 1-based inclusive pixel indices
 * (xmin..xmax both inside the object), so on reading x1 = xmin - 1, x2 = xmax (and the same for y);
 * writing does the reverse. COCO's `[x, y, w, h]` becomes `[x, y, x + w, y + h]`. With these rules
 * the area w * h of a box is the same number in the VOC and the COCO version of a set.
 *
 * Labels are contiguous 1..K; 0 is the background class. `classes[label - 1]` is the label's name.
 */

/** One image and all of its annotated objects (training targets are a filtered view: see targetsOf). */
export interface DetectionSample {
  /** Position in the dataset. */
  index: number;
  /** Stable string id: the VOC file stem ("000029") or the COCO image id as a string. */
  id: string;
  /** Numeric image id: the COCO id, or for VOC the stem's digits (see vocImageId). */
  imageId: number;
  /** Image file, decoded lazily (readSampleImage / the loader). */
  path: string;
  /** Size recorded in the annotation (VOC <size>, COCO image width/height). */
  width: number;
  height: number;
  /** n x 4 boxes, row-major, in the convention above. */
  boxes: Float32Array;
  /** n labels in 1..K. */
  labels: Int32Array;
  /** n flags: VOC `difficult` (1) — kept for evaluation, left out of training targets by default. */
  difficult: Uint8Array;
  /** n flags: COCO `iscrowd` (1) — never a training target. */
  crowd: Uint8Array;
}

export interface DetectionDataset {
  /** A short description for messages ("voc:/data/VOC2007:trainval"). */
  readonly name: string;
  /** The K class names; label l is classes[l - 1]. */
  readonly classes: readonly string[];
  /** For COCO sets: categoryIds[l - 1] is label l's COCO category id (for writing results). */
  readonly categoryIds?: readonly number[];
  readonly length: number;
  /** Annotations of image i (cheap: no image decoding). */
  get(i: number): DetectionSample;
  /** What was skipped as bad data when the dataset was opened with skipBad (empty otherwise). */
  readonly skipped: SkippedCounts;
  /** Problems found while opening (with skipBad these were skipped; without it opening threw). */
  readonly problems: readonly DataProblem[];
  /** Things a person should know about how the set was read (e.g. where its class list came from). */
  readonly notes?: readonly string[];
}

export type ProblemKind =
  | 'missing-image'
  | 'bad-image'
  | 'box-outside'
  | 'box-empty'
  | 'unknown-class'
  | 'duplicate-id'
  | 'bad-record';

/** One piece of bad data: which file, which record in it, what is wrong. */
export interface DataProblem {
  kind: ProblemKind;
  /** The file the record lives in (annotation XML, instances JSON, or the image). */
  file: string;
  /** The record: "object 2 (dog)", "annotation id 77", "image id 12". */
  record: string;
  message: string;
  /** What skipping it drops: one object or the whole image. */
  skips: 'object' | 'image';
}

export interface SkippedCounts {
  images: number;
  objects: number;
}

/** Options every reader takes. */
export interface OpenOptions {
  /** Go on past bad records (counted in `skipped`, listed in `problems`) instead of throwing. */
  skipBad?: boolean;
  /** Leave out images that have no training target (after difficult/crowd filtering). */
  skipEmpty?: boolean;
  /** Whether difficult objects count as training targets for skipEmpty (default false). */
  keepDifficult?: boolean;
  /**
   * How much to check image files when opening: `exists` (default) stats each file; `quick` also
   * reads its header and end (detects truncated JPEG/PNG files, size mismatches); `none` trusts
   * the annotations.
   */
  checkImages?: 'none' | 'exists' | 'quick';
  /** Boxes may poke out of the image by this many pixels before they count as bad (then clipped). */
  boxTolerance?: number;
}

/** The boxes a detector trains on: difficult (unless keepDifficult) and crowd objects removed. */
export function targetsOf(
  sample: DetectionSample,
  opts: { keepDifficult?: boolean } = {},
): { boxes: Float32Array; labels: Int32Array } {
  const keep: number[] = [];
  for (let j = 0; j < sample.labels.length; j++) {
    if (sample.crowd[j]) continue;
    if (sample.difficult[j] && !opts.keepDifficult) continue;
    keep.push(j);
  }
  if (keep.length === sample.labels.length) return { boxes: sample.boxes, labels: sample.labels };
  const boxes = new Float32Array(keep.length * 4);
  const labels = new Int32Array(keep.length);
  keep.forEach((j, k) => {
    boxes.set(sample.boxes.subarray(j * 4, j * 4 + 4), k * 4);
    labels[k] = sample.labels[j];
  });
  return { boxes, labels };
}
