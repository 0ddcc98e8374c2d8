import { statSync } from 'node:fs';
import { quickImageCheck } from './image-check.js';
import { badDataError } from './problems.js';
import type { DataProblem, DetectionDataset, DetectionSample, OpenOptions, SkippedCounts } from './types.js';

/** An object as a reader found it, before validation. Boxes are already in resdet's convention. */
export interface RawObject {
  /** Names the object in messages: "object 2 (dog)", "annotation id 77". */
  record: string;
  /** Label 1..K, or undefined when the class name/category is unknown. */
  label: number | undefined;
  /** The name or id the file used, for the unknown-class message. */
  className: string;
  box: [number, number, number, number];
  difficult: boolean;
  crowd: boolean;
}

/** An image as a reader found it. */
export interface RawImage {
  /** The annotation file the record comes from. */
  file: string;
  /** Names the image in messages: "image id 12", "000029". */
  record: string;
  id: string;
  imageId: number;
  path: string;
  width: number;
  height: number;
  objects: RawObject[];
}

/** A dataset held in memory: what every reader returns. */
export class ArrayDetectionDataset implements DetectionDataset {
  constructor(
    readonly name: string,
    readonly classes: readonly string[],
    private readonly samples: DetectionSample[],
    readonly skipped: SkippedCounts = { images: 0, objects: 0 },
    readonly problems: readonly DataProblem[] = [],
    readonly categoryIds?: readonly number[],
    readonly notes: readonly string[] = [],
  ) {}

  get length(): number {
    return this.samples.length;
  }

  get(i: number): DetectionSample {
    const s = this.samples[i];
    if (!s) throw new RangeError(`${this.name}: index ${i} out of range 0..${this.samples.length - 1}`);
    return s;
  }
}

/** Runs `fn` over items with at most `limit` in flight (sharp works on libuv's thread pool). */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function boxProblem(
  box: [number, number, number, number],
  width: number,
  height: number,
  tolerance: number,
): { kind: 'box-empty' | 'box-outside' | 'bad-record'; message: string } | undefined {
  const [x1, y1, x2, y2] = box;
  const shown = `[${box.map((v) => Math.round(v * 100) / 100).join(', ')}]`;
  if (!box.every(Number.isFinite)) return { kind: 'bad-record', message: `box ${shown} is not finite` };
  if (x2 <= x1 || y2 <= y1) return { kind: 'box-empty', message: `box ${shown} has zero area` };
  if (x1 < -tolerance || y1 < -tolerance || x2 > width + tolerance || y2 > height + tolerance) {
    return { kind: 'box-outside', message: `box ${shown} lies outside the ${width}x${height} image` };
  }
  return undefined;
}

/**
 * Validates what a reader found and builds the dataset: duplicate ids, image files, class names
 * and boxes are checked; bad records either throw (listing them all) or, with skipBad, are dropped
 * and counted. Boxes within `boxTolerance` of the border are clipped to the image.
 */
export async function buildDataset(
  name: string,
  classes: readonly string[],
  images: RawImage[],
  opts: OpenOptions = {},
  earlier: DataProblem[] = [],
  categoryIds?: readonly number[],
  notes: readonly string[] = [],
): Promise<ArrayDetectionDataset> {
  const problems: DataProblem[] = [...earlier];
  const tolerance = opts.boxTolerance ?? 1;
  const check = opts.checkImages ?? 'exists';
  const badImage = new Set<RawImage>();
  const imageProblem = (img: RawImage, kind: DataProblem['kind'], message: string, file = img.file) => {
    problems.push({ kind, file, record: img.record, message, skips: 'image' });
    badImage.add(img);
  };

  const seen = new Map<string, RawImage>();
  for (const img of images) {
    const first = seen.get(img.id);
    if (first) {
      imageProblem(img, 'duplicate-id', `duplicate image id "${img.id}" (first in ${first.file})`);
      continue;
    }
    seen.set(img.id, img);
    if (!(img.width > 0 && img.height > 0)) {
      imageProblem(img, 'bad-record', `image size ${img.width}x${img.height} is not positive`);
    }
  }

  if (check !== 'none') {
    const toCheck = images.filter((img) => !badImage.has(img));
    await forEachLimited(toCheck, 8, async (img) => {
      let isFile = false;
      try {
        isFile = statSync(img.path).isFile();
      } catch {
        isFile = false;
      }
      if (!isFile) {
        imageProblem(img, 'missing-image', `image file ${img.path} not found`);
        return;
      }
      if (check === 'quick') {
        const issue = await quickImageCheck(img.path, img);
        if (issue) imageProblem(img, 'bad-image', issue, img.path);
      }
    });
  }

  const samples: DetectionSample[] = [];
  let skippedObjects = 0;
  for (const img of images) {
    if (badImage.has(img)) continue;
    const kept: RawObject[] = [];
    for (const obj of img.objects) {
      let issue: { kind: DataProblem['kind']; message: string } | undefined;
      if (obj.label === undefined) {
        issue = { kind: 'unknown-class', message: `unknown class "${obj.className}"` };
      } else {
        issue = boxProblem(obj.box, img.width, img.height, tolerance);
      }
      if (issue) {
        problems.push({ ...issue, file: img.file, record: `${img.record}, ${obj.record}`, skips: 'object' });
        skippedObjects++;
        continue;
      }
      kept.push(obj);
    }
    const n = kept.length;
    const sample: DetectionSample = {
      index: samples.length,
      id: img.id,
      imageId: img.imageId,
      path: img.path,
      width: img.width,
      height: img.height,
      boxes: new Float32Array(n * 4),
      labels: new Int32Array(n),
      difficult: new Uint8Array(n),
      crowd: new Uint8Array(n),
    };
    kept.forEach((obj, j) => {
      const [x1, y1, x2, y2] = obj.box;
      sample.boxes[j * 4] = Math.max(0, x1);
      sample.boxes[j * 4 + 1] = Math.max(0, y1);
      sample.boxes[j * 4 + 2] = Math.min(img.width, x2);
      sample.boxes[j * 4 + 3] = Math.min(img.height, y2);
      sample.labels[j] = obj.label as number;
      sample.difficult[j] = obj.difficult ? 1 : 0;
      sample.crowd[j] = obj.crowd ? 1 : 0;
    });
    if (opts.skipEmpty) {
      let targets = 0;
      for (let j = 0; j < n; j++) {
        if (!sample.crowd[j] && (opts.keepDifficult || !sample.difficult[j])) targets++;
      }
      if (targets === 0) continue;
      sample.index = samples.length;
    }
    samples.push(sample);
  }

  if (problems.length > 0 && !opts.skipBad) throw badDataError(name, problems);
  const skipped = {
    images: badImage.size + earlier.filter((p) => p.skips === 'image').length,
    objects: skippedObjects + earlier.filter((p) => p.skips === 'object').length,
  };
  return new ArrayDetectionDataset(name, classes, samples, skipped, problems, categoryIds, notes);
}
