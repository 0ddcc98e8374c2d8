/**
 * What the server needs from the models and the evaluation library, as small interfaces of its
 * own: the app is built and tested against these, and adapters (models.ts, evaluators.ts) wrap
 * the real implementations.
 */

import type { RgbImage } from '../data/image/decode.js';
import type { Detection } from '../detection/app/detector.js';

// The pixels and detections are the library's own types (one definition each).
export type { Detection, RgbImage };

export interface Classification {
  index: number;
  label: string;
  prob: number;
  logit: number;
}

/** What /v1/models says about one model. */
export interface ModelInfo {
  /** Where it came from (the checkpoint folder's name) or a short name. */
  name: string;
  kind: 'classifier' | 'detector';
  arch: string;
  classes: string[];
  /** Input sizes and normalisation, as the checkpoint's config states them. */
  preprocessing: Record<string, unknown>;
}

export interface ClassifierService {
  readonly info: ModelInfo;
  classify(image: RgbImage, opts: { topk: number }): Promise<Classification[]>;
}

export interface DetectorService {
  readonly info: ModelInfo;
  /** The dataset's COCO category id for each class index, when the model was trained on COCO. */
  readonly categoryIds?: readonly number[];
  detect(image: RgbImage, opts: { scoreThreshold: number; maxDetections: number }): Promise<Detection[]>;
}

/** Loaded once per process and shared by every request. */
export interface Models {
  detector: DetectorService;
  classifier?: ClassifierService;
  /** False once the models can no longer answer (their worker thread died): /readyz turns 503. */
  healthy?(): boolean;
}

/**
 * The evaluation library behind /v1/evaluate/*: plain JSON in, numbers out. Bad input throws a
 * ResdetError (answered 400 with its message).
 */
export interface Evaluators {
  coco(body: unknown): Promise<unknown> | unknown;
  voc(body: unknown): Promise<unknown> | unknown;
}
