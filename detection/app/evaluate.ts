import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { UsageError } from '../../core/errors.js';
import { Progress } from '../../core/progress.js';
import type { CocoInstances } from '../../data/detection/coco-source.js';
import { cocoInstances } from '../../data/detection/write.js';
import type { DetectionDataset, DetectionSample } from '../../data/detection/types.js';
import {
  type CocoResultRecord,
  cocoResultRecord,
  devkitBox,
  devkitLine,
  devkitResultFileName,
} from '../../data/formats/results.js';
import { decodeImage } from '../../data/image/decode.js';
import type { Detection, Detector } from './detector.js';
import { type CocoSummary, evaluateCoco } from '../eval/coco.js';
import {
  evaluateVoc,
  type VocDetection,
  type VocImage,
  type VocMetric,
  type VocSummary,
} from '../eval/voc.js';

/** Detections of one dataset image. */
export interface ImageDetections {
  sample: DetectionSample;
  detections: Detection[];
}

/** Runs the detector over the first `limit` images of a dataset (all by default). */
export async function detectDataset(
  detector: Detector,
  dataset: DetectionDataset,
  opts: { limit?: number; scoreThreshold?: number; silent?: boolean; label?: string } = {},
): Promise<ImageDetections[]> {
  const n = Math.min(dataset.length, opts.limit ?? dataset.length);
  const progress = new Progress({
    total: n,
    label: opts.label ?? 'detect',
    unit: 'img',
    silent: opts.silent,
  });
  const out: ImageDetections[] = [];
  // Decode the next image while the model runs on this one.
  let next = n > 0 ? decodeImage(dataset.get(0).path) : undefined;
  for (let i = 0; i < n; i++) {
    const rgb = await (next as ReturnType<typeof decodeImage>);
    next = i + 1 < n ? decodeImage(dataset.get(i + 1).path) : undefined;
    next?.catch(() => {});
    const detections = await detector.detect(rgb, { scoreThreshold: opts.scoreThreshold });
    out.push({ sample: dataset.get(i), detections });
    progress.tick();
  }
  progress.finish();
  return out;
}

export function vocGroundTruth(results: readonly ImageDetections[], classes: readonly string[]): VocImage[] {
  return results.map(({ sample }) => ({
    id: sample.id,
    objects: Array.from(sample.labels, (label, j) => ({
      name: classes[label - 1],
      bbox: devkitBox(sample.boxes.subarray(4 * j, 4 * j + 4)),
      difficult: sample.difficult[j] === 1 || sample.crowd[j] === 1,
    })),
  }));
}

export function vocDetections(results: readonly ImageDetections[]): VocDetection[] {
  return results.flatMap(({ sample, detections }) =>
    detections.map((d) => ({ image_id: sample.id, class: d.label, score: d.score, bbox: devkitBox(d.box) })),
  );
}

export type { CocoResultRecord } from '../../data/formats/results.js';

/** A COCO results list (`[x, y, w, h]`, category ids from the dataset or 1..K). */
export function cocoResults(
  results: readonly ImageDetections[],
  categoryIds?: readonly number[],
): CocoResultRecord[] {
  return results.flatMap(({ sample, detections }) =>
    detections.map((d) => cocoResultRecord(sample.imageId, d, categoryIds)),
  );
}

/** A [x, y, w, h] with no area (zero or negative size): the loader skips these as box-empty. */
function isFlatBox(bbox: unknown): boolean {
  if (!Array.isArray(bbox) || bbox.length !== 4) return false;
  const [, , w, h] = bbox;
  return (typeof w === 'number' && w <= 0) || (typeof h === 'number' && h <= 0);
}

/** A COCO instances file as the dataset opener read it, so that it is not read twice. */
export interface CocoAnnotationsSource {
  path: string;
  instances: CocoInstances;
}

/**
 * COCO ground truth for the evaluated images: the original instances file when the dataset is a
 * COCO json (its `area` fields are what pycocotools uses), else built from the annotations
 * (difficult VOC objects become crowd regions, which COCO ignores as VOC does).
 */
export function cocoGroundTruth(
  results: readonly ImageDetections[],
  dataset: DetectionDataset,
  annotations?: CocoAnnotationsSource,
): unknown {
  if (annotations) {
    const doc = annotations.instances;
    const keep = new Set(results.map((r) => r.sample.imageId));
    // The dataset loader already skipped (and reported) images it could not read and boxes without
    // area; the evaluator would refuse both, so the ground truth leaves out the same records.
    const kept = doc.annotations?.filter(
      (a) => typeof a?.image_id === 'number' && keep.has(a.image_id) && !isFlatBox(a?.bbox),
    );
    return { ...doc, images: doc.images.filter((im) => keep.has(im.id)), annotations: kept };
  }
  return cocoInstances(
    results.map(({ sample }) => ({
      ...sample,
      fileName: sample.path,
      crowd: Uint8Array.from(sample.crowd, (c, j) => (c || sample.difficult[j] ? 1 : 0)),
    })),
    dataset.classes,
    dataset.categoryIds,
  );
}

export type DetectorMetric = VocMetric | 'coco';

export interface DetectorEvaluation {
  voc?: VocSummary;
  coco?: CocoSummary;
}

export function evaluateDetections(
  results: readonly ImageDetections[],
  dataset: DetectionDataset,
  metrics: readonly DetectorMetric[],
  opts: { annotationsFile?: string | CocoAnnotationsSource } = {},
): DetectorEvaluation {
  const out: DetectorEvaluation = {};
  const vocMetric = metrics.find((m): m is VocMetric => m !== 'coco');
  if (vocMetric) {
    out.voc = evaluateVoc(vocGroundTruth(results, dataset.classes), vocDetections(results), {
      metric: vocMetric,
      classes: dataset.classes,
      gtSource: dataset.name,
    });
  }
  if (metrics.includes('coco')) {
    // A path is read here; evaluate-detector hands on the document its dataset opener read.
    const source =
      typeof opts.annotationsFile === 'string'
        ? {
            path: opts.annotationsFile,
            instances: JSON.parse(readFileSync(opts.annotationsFile, 'utf8')) as CocoInstances,
          }
        : opts.annotationsFile;
    const gt = cocoGroundTruth(results, dataset, source);
    out.coco = evaluateCoco(gt, cocoResults(results, dataset.categoryIds), {
      gtSource: source?.path ?? dataset.name,
      imgIds: results.map((r) => r.sample.imageId),
    });
  }
  return out;
}

/**
 * Writes the standard result files: `detections_coco.json` (COCO results format) and VOC devkit
 * files `voc/comp4_det_test_<class>.txt` (`<image_id> <score> <xmin> <ymin> <xmax> <ymax>`).
 */
export function writeResultFiles(
  dir: string,
  results: readonly ImageDetections[],
  classes: readonly string[],
  categoryIds?: readonly number[],
): { cocoJson: string; vocDir: string } {
  mkdirSync(join(dir, 'voc'), { recursive: true });
  const cocoJson = join(dir, 'detections_coco.json');
  writeFileAtomic(cocoJson, [`${JSON.stringify(cocoResults(results, categoryIds))}\n`]);
  const vocDir = join(dir, 'voc');
  const lines = new Map<string, string[]>(classes.map((c) => [c, []]));
  for (const d of vocDetections(results)) lines.get(d.class)?.push(devkitLine(d.image_id, d.score, d.bbox));
  for (const [cls, rows] of lines) {
    writeFileSync(join(vocDir, devkitResultFileName(cls)), rows.length ? `${rows.join('\n')}\n` : '');
  }
  return { cocoJson, vocDir };
}

/**
 * The detector seen through a dataset's classes: a model whose class list differs from the set's
 * (torchvision's 91-entry COCO layout against a COCO json's 80 classes) is matched by COCO category
 * id; detections of categories the set lacks are dropped. Same classes: the detector itself.
 */
export function alignToDataset(detector: Detector, dataset: DetectionDataset): Detector {
  if (dataset.classes.join('\n') === detector.classes.join('\n')) return detector;
  const ids = detector.categoryIds;
  const setIds = dataset.categoryIds;
  if (!ids || !setIds) {
    throw new UsageError(
      `${dataset.name}'s classes (${dataset.classes.join(', ')}) are not the model's (${detector.classes.join(', ')})`,
      'evaluate on a set with the classes the detector was trained on',
    );
  }
  const toSet = new Map(setIds.map((id, i) => [id, i]));
  return {
    ...detector,
    classes: dataset.classes,
    categoryIds: setIds,
    async detect(rgb, opts) {
      const out: Detection[] = [];
      for (const d of await detector.detect(rgb, opts)) {
        const i = toSet.get(ids[d.labelIndex]);
        if (i !== undefined) out.push({ ...d, label: dataset.classes[i], labelIndex: i });
      }
      return out;
    },
  };
}
