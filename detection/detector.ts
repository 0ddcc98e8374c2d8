import type { Preprocessing } from '../core/checkpoint.js';
import { loadDetectorCheckpoint } from './checkpoint.js';
import { FpnFasterRCNN } from './model/generalized-rcnn.js';
import type { RawDetections } from './model/roi-heads.js';
import type { TwoStageDetector } from './model/two-stage.js';
import { boxesToOriginal, collate, prepareImage, type RgbInput } from './preprocess.js';

/** One detected object in the input image's pixels. */
export interface Detection {
  box: [number, number, number, number];
  /** Class name. */
  label: string;
  /** 0-based index into `classes` (the model's label minus one). */
  labelIndex: number;
  score: number;
}

export interface DetectOptions {
  /**
   * Keep detections scoring above this. C4 models apply it inside their postprocess (default: the
   * model's 0.05); FPN models keep torchvision's box_score_thresh (0.05) inside the model, as
   * torchvision does, and this filters their output further (0 = exactly what the model keeps).
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

/** Detections of one image (original pixels) with their class names; `base` = label of classes[0]. */
function toDetections(
  raw: RawDetections,
  boxes: Float32Array,
  classes: readonly string[],
  base: number,
): Detection[] {
  const out: Detection[] = [];
  for (let i = 0; i < raw.scores.length; i++) {
    const labelIndex = raw.labels[i] - base;
    out.push({
      box: [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]],
      label: classes[labelIndex],
      labelIndex,
      score: raw.scores[i],
    });
  }
  return out;
}

/** An FPN detector: torchvision's transform and postprocess, its score threshold kept inside. */
function makeFpnDetector(
  model: FpnFasterRCNN,
  classes: readonly string[],
  preprocessing: Preprocessing,
  categoryIds: readonly number[] | undefined,
  base: number,
): Detector {
  return {
    classes,
    categoryIds,
    preprocessing,
    model,
    async detect(rgb: RgbInput, opts: DetectOptions = {}): Promise<Detection[]> {
      const raw = model.detectImage(rgb, { detectionsPerImage: opts.maxDetections });
      const all = toDetections(raw, raw.boxes, classes, base);
      const t = opts.scoreThreshold;
      return t === undefined ? all : all.filter((d) => d.score > t);
    },
    dispose() {
      model.dispose();
    },
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
  if (model instanceof FpnFasterRCNN)
    return makeFpnDetector(model, classes, preprocessing, categoryIds, base);
  return {
    classes,
    categoryIds,
    preprocessing,
    model,
    async detect(rgb: RgbInput, opts: DetectOptions = {}): Promise<Detection[]> {
      const img = await prepareImage(rgb, preprocessing, false);
      const batch = collate([img], model.config.sizeDivisible);
      try {
        const [raw] = model.detect(batch, {
          scoreThreshold: opts.scoreThreshold,
          detectionsPerImage: opts.maxDetections,
        });
        return toDetections(raw, boxesToOriginal(raw.boxes, img), classes, base);
      } finally {
        batch.images.dispose();
      }
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
