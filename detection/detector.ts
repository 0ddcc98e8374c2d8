import type { Preprocessing } from '../core/checkpoint.js';
import { loadDetectorCheckpoint } from './checkpoint.js';
import type { FasterRCNN } from './model/faster-rcnn.js';
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
  readonly model: FasterRCNN;
  /** Detections for one RGB image, best first, boxes [x1, y1, x2, y2] in its pixels. */
  detect(rgb: RgbInput, opts?: DetectOptions): Promise<Detection[]>;
  dispose(): void;
}

/** Wraps a model with its preprocessing and class names. */
export function makeDetector(
  model: FasterRCNN,
  classes: readonly string[],
  preprocessing: Preprocessing,
  categoryIds?: readonly number[],
): Detector {
  return {
    classes,
    categoryIds,
    preprocessing,
    model,
    async detect(rgb: RgbInput, opts: DetectOptions = {}): Promise<Detection[]> {
      const img = await prepareImage(rgb, preprocessing, false);
      const batch = collate([img], model.config.sizeDivisible);
      try {
        // A higher threshold before NMS keeps the same boxes as filtering the output (a box is
        // only ever suppressed by a higher-scoring one), so max() is "the model's output, filtered".
        const floor = model.config.roiHeads.scoreThreshold;
        const [raw] = await model.detect(batch, {
          scoreThreshold:
            opts.scoreThreshold === undefined ? undefined : Math.max(opts.scoreThreshold, floor),
          detectionsPerImage: opts.maxDetections,
        });
        const boxes = boxesToOriginal(raw.boxes, img);
        const dropEmpty = model.config.roiHeads.dropEmptyBoxes === 'after-rescale';
        const out: Detection[] = [];
        for (let i = 0; i < raw.scores.length; i++) {
          if (dropEmpty && !(boxes[4 * i + 2] > boxes[4 * i] && boxes[4 * i + 3] > boxes[4 * i + 1]))
            continue;
          out.push({
            box: [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]],
            label: classes[raw.labels[i] - 1],
            labelIndex: raw.labels[i] - 1,
            ...(categoryIds ? { categoryId: categoryIds[raw.labels[i] - 1] } : {}),
            score: raw.scores[i],
          });
        }
        return out;
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
  return makeDetector(model, meta.classes, meta.preprocessing, meta.categoryIds);
}
