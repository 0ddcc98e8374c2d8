import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import type { DatasetSpec } from '../../data/detection/spec.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import { type Detector, loadDetector } from './detector.js';
import { type EvaluationSet, openEvaluationSet } from './eval-set.js';
import {
  alignToDataset,
  type DetectorEvaluation,
  type DetectorMetric,
  detectDataset,
  evaluateDetections,
  type ImageDetections,
  writeResultFiles,
} from './evaluate.js';

export interface EvaluateDetectorOptions {
  /** A checkpoint directory (loaded here, and disposed at the end) or a loaded detector. */
  model: string | Detector;
  /**
   * The evaluation set: a spec (voc:ROOT:test, coco:ANN.json[:IMAGE_DIR]), parsed or not, or a set
   * already open (`openEvaluationSet`, or `{ dataset }` for any DetectionDataset).
   */
  data: string | DatasetSpec | EvaluationSet;
  /** Default voc07. */
  metrics?: readonly DetectorMetric[];
  /** Where the result files go (default `<model>/eval`; required when `model` is a detector). */
  out?: string;
  /** Evaluate only the first `limit` images. */
  limit?: number;
  /** No progress bar. */
  silent?: boolean;
  /** Told notes and bad-data summaries about the set, one line each. */
  warn?: (line: string) => void;
}

/** What `resdet evaluate-detector` reports (its --json shape is built from this). */
export interface DetectorReport {
  model: string;
  data: string;
  images: number;
  seconds: number;
  files: { cocoJson: string; vocDir: string };
  evaluation: DetectorEvaluation;
  /** Extra JSON fields (the queue's run name, what a partial collect left out). */
  extra?: Record<string, unknown>;
}

export interface DetectorEvaluationRun extends DetectorReport {
  /** Every image's detections, in dataset order. */
  results: ImageDetections[];
  dataset: DetectionDataset;
}

/**
 * `resdet evaluate-detector` as a library call: runs the detector over the set, writes COCO
 * results JSON and VOC devkit files, and scores them with the metrics asked for.
 */
export async function evaluateDetector(opts: EvaluateDetectorOptions): Promise<DetectorEvaluationRun> {
  const owned = typeof opts.model === 'string';
  const out = opts.out ?? (typeof opts.model === 'string' ? join(opts.model, 'eval') : undefined);
  if (!out) throw new UsageError('evaluateDetector: `out` is required when the model is a loaded detector');
  const detector = typeof opts.model === 'string' ? await loadDetector(opts.model) : opts.model;
  try {
    const { dataset, coco } =
      typeof opts.data === 'object' && 'dataset' in opts.data
        ? opts.data
        : await openEvaluationSet(opts.data, opts.warn);
    // Same classes, or (torchvision's COCO layout) the same COCO category ids.
    const aligned = alignToDataset(detector, dataset);
    const t0 = performance.now();
    const results = await detectDataset(aligned, dataset, { limit: opts.limit, silent: opts.silent });
    const seconds = (performance.now() - t0) / 1000;
    const files = writeResultFiles(out, results, dataset.classes, dataset.categoryIds);
    const evaluation = evaluateDetections(results, dataset, opts.metrics ?? ['voc07'], {
      annotationsFile: coco,
    });
    const model = typeof opts.model === 'string' ? opts.model : 'detector';
    return {
      model,
      data: dataset.name,
      images: results.length,
      seconds,
      files,
      evaluation,
      results,
      dataset,
    };
  } finally {
    if (owned) detector.dispose();
  }
}
