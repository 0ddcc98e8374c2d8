import type { Preprocessing } from '../../core/checkpoint.js';
import { loadDetectorCheckpoint } from './checkpoint.js';
import { FpnFasterRCNN } from '../model/generalized-rcnn.js';
import type { RawDetections } from '../model/roi-heads.js';
import type { TwoStageDetector } from '../model/two-stage.js';
import { boxesToOriginal, collate, prepareImage, type RgbInput } from './preprocess.js';

/** One detected object in the input image's pixels. */
export interface Detection {
  box: [number, number, number, number];
  /** Class name. */
  label: string;
  /** 0-based index into `classes` (the model's label minus one). */
  labelIndex: number;
  /** The class's COCO category id, when the checkpoint has them (COCO-trained or imported). */
  categoryId?: number;
  score: number;
}

export interface DetectOptions {
  /**
   * Keep detections scoring above this (default: the model's, 0.05). A threshold at or below the
   * model's own test threshold (roiHeads.scoreThreshold, applied before NMS as in torchvision and
   * detectron2) gives exactly what the model's postprocess keeps: 0 never adds candidates.
   */
  scoreThreshold?: number;
  /** At most this many detections (default: the model's, 100). */
  maxDetections?: number;
}

/** A loaded detector: what the CLI, the evaluator and the HTTP server call. */
export interface Detector {
  readonly classes: readonly string[];
  readonly categoryIds?: readonly number[];
  readonly preprocessing: Preprocessing;
  readonly model: TwoStageDetector;
  /** Detections for one RGB image, best first, boxes [x1, y1, x2, y2] in its pixels. */
  detect(rgb: RgbInput, opts?: DetectOptions): Promise<Detection[]>;
  dispose(): void;
}

/**
 * A score or corner that is NaN or infinite (a diverged model, or a device that computed nothing)
 * cannot be drawn, written as a result record or scored; torchvision drops such detections too,
 * since its `scores > thresh` and small-box comparisons are false for NaN.
 */
function finiteDetection(score: number, boxes: Float32Array, i: number): boolean {
  return (
    Number.isFinite(score) &&
    Number.isFinite(boxes[4 * i]) &&
    Number.isFinite(boxes[4 * i + 1]) &&
    Number.isFinite(boxes[4 * i + 2]) &&
    Number.isFinite(boxes[4 * i + 3])
  );
}

/** Detections of one image (original pixels) with their class names; `base` = label of classes[0]. */
function toDetections(
  raw: RawDetections,
  boxes: Float32Array,
  classes: readonly string[],
  base: number,
  categoryIds?: readonly number[],
  keep: (i: number) => boolean = () => true,
): Detection[] {
  const out: Detection[] = [];
  for (let i = 0; i < raw.scores.length; i++) {
    if (!keep(i) || !finiteDetection(raw.scores[i], boxes, i)) continue;
    const labelIndex = raw.labels[i] - base;
    out.push({
      box: [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]],
      label: classes[labelIndex],
      labelIndex,
      ...(categoryIds ? { categoryId: categoryIds[labelIndex] } : {}),
      score: raw.scores[i],
    });
  }
  return out;
}

/**
 * The caller's threshold on top of the model's own (its postprocess keeps scores above its config's
 * scoreThreshold, 0.05, before NMS and the top-100 cut, as torchvision and detectron2 do). Since NMS
 * only lets a higher score suppress a lower one, filtering afterwards gives the same list as running
 * the postprocess with the higher threshold.
 */
function aboveThreshold(detections: Detection[], threshold: number | undefined): Detection[] {
  return threshold === undefined ? detections : detections.filter((d) => d.score > threshold);
}

type RunModel = (
  rgb: RgbInput,
  maxDetections?: number,
) => Promise<{ raw: RawDetections; boxes: Float32Array; keep?: (i: number) => boolean }>;

/** FPN models: torchvision's own transform and postprocess (boxes already in the image's pixels). */
function runFpn(model: FpnFasterRCNN): RunModel {
  return async (rgb, maxDetections) => {
    const raw = await model.detectImage(rgb, { detectionsPerImage: maxDetections });
    return { raw, boxes: raw.boxes };
  };
}

/** C4 models: the data pipeline's resize and normalisation, boxes mapped back to the image. */
function runC4(model: Exclude<TwoStageDetector, FpnFasterRCNN>, preprocessing: Preprocessing): RunModel {
  return async (rgb, maxDetections) => {
    const img = await prepareImage(rgb, preprocessing, false);
    const batch = collate([img], model.config.sizeDivisible);
    try {
      const [raw] = await model.detect(batch, { detectionsPerImage: maxDetections });
      const boxes = boxesToOriginal(raw.boxes, img);
      // detectron2 drops boxes left empty by the rescale to the original image.
      const keep =
        model.config.roiHeads.dropEmptyBoxes === 'after-rescale'
          ? (i: number) => boxes[4 * i + 2] > boxes[4 * i] && boxes[4 * i + 3] > boxes[4 * i + 1]
          : undefined;
      return { raw, boxes, keep };
    } finally {
      batch.images.dispose();
    }
  };
}

/**
 * Wraps a model with its preprocessing and class names. `labelLayout` 'background-first': classes[0]
 * is the background, so class index = model label (torchvision's COCO layout).
 */
export function makeDetector(
  model: TwoStageDetector,
  classes: readonly string[],
  preprocessing: Preprocessing,
  categoryIds?: readonly number[],
  labelLayout?: 'background-first',
): Detector {
  const base = labelLayout === 'background-first' ? 0 : 1;
  const run = model instanceof FpnFasterRCNN ? runFpn(model) : runC4(model, preprocessing);
  return {
    classes,
    categoryIds,
    preprocessing,
    model,
    async detect(rgb: RgbInput, opts: DetectOptions = {}): Promise<Detection[]> {
      const { raw, boxes, keep } = await run(rgb, opts.maxDetections);
      return aboveThreshold(toDetections(raw, boxes, classes, base, categoryIds, keep), opts.scoreThreshold);
    },
    dispose() {
      model.dispose();
    },
  };
}

/** Loads a detector checkpoint directory (from `resdet train-detector` or `resdet init --kind detector`). */
export async function loadDetector(dir: string): Promise<Detector> {
  const { model, meta } = loadDetectorCheckpoint(dir);
  return makeDetector(model, meta.classes, meta.preprocessing, meta.categoryIds, meta.labelLayout);
}
