import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import {
  type Checkpoint,
  type CheckpointConfig,
  loadCheckpoint,
  type Preprocessing,
  readCheckpointConfig,
  saveCheckpoint,
} from '../core/checkpoint.js';
import { ResdetError, UsageError } from '../core/errors.js';
import {
  classifyTransform,
  defaultResize,
  IMAGENET_MEAN,
  IMAGENET_STD,
} from '../data/image/classify-transform.js';
import type { RgbImage } from '../data/image/decode.js';
import { RESNET_ARCHS, type ResNetConfig, validateConfig } from './config.js';
import { buildResNet, type ResNet } from './resnet.js';

/** One of a classifier's top-k answers. */
export interface Prediction {
  index: number;
  label: string;
  /** Softmax probability over all classes. */
  prob: number;
  logit: number;
}

export interface ClassifyOptions {
  topk?: number;
  /** Feed the image as it is (no resize, no centre crop). */
  noResize?: boolean;
}

/** ImageNet preprocessing for a model with the given native input side. */
export function defaultPreprocessing(inputSize: number): Preprocessing {
  return { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD], inputSize };
}

/** The native input side of a config: 224 for the ImageNet stem, 32 for the CIFAR stem. */
export function nativeInput(config: ResNetConfig): number {
  return config.stem === 'imagenet' ? 224 : 32;
}

/** Saves a classifier checkpoint (config.json + weights.safetensors in torchvision layout). */
export async function saveClassifier(
  dir: string,
  model: ResNet,
  opts: { arch: string; classes: string[]; preprocessing?: Preprocessing; extra?: Record<string, unknown> },
): Promise<CheckpointConfig> {
  if (opts.classes.length !== model.config.numClasses) {
    throw new ResdetError(
      `${opts.classes.length} class names for a model with ${model.config.numClasses} outputs`,
    );
  }
  const weights = await model.stateDict();
  return saveCheckpoint(
    dir,
    {
      kind: 'classifier',
      arch: opts.arch,
      classes: opts.classes,
      preprocessing: opts.preprocessing ?? defaultPreprocessing(nativeInput(model.config)),
      model: { ...model.config } as unknown as Record<string, unknown>,
      extra: opts.extra,
    },
    weights,
  );
}

/** The ResNetConfig stored in a checkpoint's config.json (validated). */
export function checkpointResNetConfig(config: CheckpointConfig, label: string): ResNetConfig {
  const stored = config.model as Partial<ResNetConfig> | undefined;
  const spec = RESNET_ARCHS[config.arch];
  if (!stored && !spec) {
    throw new ResdetError(
      `${label}: config.json has no "model" section and arch "${config.arch}" is unknown`,
    );
  }
  const merged = {
    ...(spec ? { ...spec.config, numClasses: config.classes.length } : {}),
    ...stored,
  } as ResNetConfig;
  try {
    validateConfig(merged);
  } catch (err) {
    throw new ResdetError(`${label}: ${(err as Error).message}`);
  }
  return merged;
}

/**
 * Opens a classifier checkpoint: the one loader behind `classify`, the server, `evaluate` and a
 * detector's pretrained backbone. The config is read first, so a checkpoint of another kind is
 * refused (with `refuse`'s error: each caller says what it wanted instead) before any weights open.
 */
export function loadClassifierCheckpoint(
  dir: string,
  refuse: (kind: string) => Error = (kind) =>
    new ResdetError(
      `${dir}: a ${kind} checkpoint, not a classifier`,
      'pass a classifier checkpoint (from `resdet init`, `resdet import torchvision` or pretraining)',
    ),
): Checkpoint {
  const { kind } = readCheckpointConfig(dir);
  if (kind !== 'classifier') throw refuse(kind);
  return loadCheckpoint(dir);
}

/** Loads a classifier checkpoint into a ResNet (inference: frozen nothing, BN folded on forward). */
export function loadClassifierModel(dir: string): { model: ResNet; config: CheckpointConfig } {
  const ckpt = loadClassifierCheckpoint(dir);
  const resnetConfig = checkpointResNetConfig(ckpt.config, dir);
  // Labels are looked up by output index: a list of another length would misname every class.
  if (ckpt.config.classes.length !== resnetConfig.numClasses) {
    throw new ResdetError(
      `${join(dir, 'config.json')}: ${ckpt.config.classes.length} class names for a model with ${resnetConfig.numClasses} outputs`,
      'the "classes" list needs one name per output, in output order',
    );
  }
  const model = buildResNet(resnetConfig, { initialize: false });
  try {
    model.loadStateDict(ckpt.weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, config: ckpt.config };
}

/** Top-k of one row of logits, with softmax probabilities computed in float64. */
export function topK(logits: ArrayLike<number>, classes: readonly string[], k: number): Prediction[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const order = Array.from({ length: logits.length }, (_, i) => i).sort(
    (a, b) => logits[b] - logits[a] || a - b,
  );
  return order.slice(0, Math.max(0, Math.min(k, logits.length))).map((index) => ({
    index,
    label: classes[index] ?? String(index),
    prob: Math.exp(logits[index] - max) / sum,
    logit: logits[index],
  }));
}

export interface Classifier {
  readonly arch: string;
  readonly classes: string[];
  readonly preprocessing: Preprocessing;
  readonly model: ResNet;
  /** Classifies decoded RGB pixels with the checkpoint's eval transform. */
  classify(rgb: RgbImage, opts?: ClassifyOptions): Promise<Prediction[]>;
  /** Logits for one image (a fresh array). */
  logits(rgb: RgbImage, opts?: { noResize?: boolean }): Promise<Float32Array>;
  dispose(): void;
}

/** Loads a classifier checkpoint for inference (what `resdet classify` and the server use). */
export function loadClassifier(dir: string): Classifier {
  const { model, config } = loadClassifierModel(dir);
  const pre = config.preprocessing;
  const crop = pre.inputSize ?? nativeInput(model.config);
  const logits = async (rgb: RgbImage, opts: { noResize?: boolean } = {}): Promise<Float32Array> => {
    const out = tf.tidy(() => {
      const x = classifyTransform(rgb, {
        crop,
        resize: defaultResize(crop),
        noResize: opts.noResize,
        mean: pre.mean,
        std: pre.std,
      });
      return model.forward(x, false);
    });
    const values = (await out.data()) as Float32Array;
    out.dispose();
    return values;
  };
  return {
    arch: config.arch,
    classes: config.classes,
    preprocessing: pre,
    model,
    logits,
    async classify(rgb, opts = {}) {
      return topK(await logits(rgb, opts), config.classes, opts.topk ?? 5);
    },
    dispose: () => model.dispose(),
  };
}

/**
 * Class names from a command-line value: a count ("10" -> "0".."9"), "imagenet" (the 1000 names),
 * or a comma-separated list of names.
 */
export function parseClassNames(value: string, imagenet: () => string[]): string[] {
  const v = value.trim();
  const hint = 'give a count >= 1, "imagenet" or comma-separated names';
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1) throw new UsageError(`--classes: need at least one class, got ${v}`, hint);
    return Array.from({ length: n }, (_, i) => String(i));
  }
  // "-3" or "1.5" is a mistyped count, not the name of a single class.
  if (v !== '' && Number.isFinite(Number(v)))
    throw new UsageError(`--classes: expected a whole number of classes, got ${v}`, hint);
  if (v.toLowerCase() === 'imagenet') return imagenet();
  const names = v.split(',').map((s) => s.trim());
  if (names.some((n) => n.length === 0))
    throw new UsageError(`--classes: empty class name in "${value}"`, hint);
  if (new Set(names).size !== names.length)
    throw new UsageError(`--classes: duplicate class names in "${value}"`, hint);
  return names;
}
