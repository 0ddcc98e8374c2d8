import { DETECTION_MAX_SIZE, DETECTION_MIN_SIZE } from '../../data/detection/transform.js';

/**
 * train-detector's defaults, named once and grouped as a run is described: the input pipeline,
 * the solver, and the periodic evaluation. The model's own defaults (anchors, RPN, RoI heads) are
 * DEFAULT_ANCHOR_SIZES / DEFAULT_RPN / DEFAULT_ROI_HEADS in detection/ops/anchors.ts and
 * detection/model/config.ts; the CLI's help texts print these values.
 */
export interface DetectorInputDefaults {
  /** Shorter side after resizing, longer side at most (the paper's 600/1000). */
  minSize: number;
  maxSize: number;
  /** Random horizontal flips in training. */
  flip: boolean;
}

export interface DetectorSolverDefaults {
  /** The paper-style run length. */
  iterations: number;
  imagesPerBatch: number;
  momentum: number;
  /** Base learning rate per image: fine-tuning a pretrained trunk (frozen BN) / from scratch. */
  lrPerImagePretrained: number;
  lrPerImageScratch: number;
  /** Linear warm-up: at most this many iterations (and a tenth of the run), from this factor. */
  warmupItersMax: number;
  warmupFactor: number;
  /** lr x gamma at each step. */
  gamma: number;
  checkpointEvery: number;
  seed: number;
}

export interface DetectorEvalDefaults {
  /** Images evaluated each --eval-every. */
  images: number;
}

export interface DetectorTrainingDefaults {
  input: DetectorInputDefaults;
  solver: DetectorSolverDefaults;
  eval: DetectorEvalDefaults;
}

export const DETECTOR_TRAINING_DEFAULTS: Readonly<DetectorTrainingDefaults> = {
  input: { minSize: DETECTION_MIN_SIZE, maxSize: DETECTION_MAX_SIZE, flip: true },
  solver: {
    iterations: 5000,
    imagesPerBatch: 2,
    momentum: 0.9,
    // Between py-faster-rcnn's 0.001 and detectron2's 0.02 per 16 images; from scratch: the rate
    // of the shapes run in the README.
    lrPerImagePretrained: 0.0025,
    lrPerImageScratch: 0.01,
    warmupItersMax: 500,
    warmupFactor: 0.001,
    gamma: 0.1,
    checkpointEvery: 500,
    seed: 0,
  },
  eval: { images: 200 },
};
