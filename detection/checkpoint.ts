import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CheckpointConfig,
  loadCheckpoint,
  OPTIMIZER_FILE,
  type Preprocessing,
  readCheckpointConfig,
  saveCheckpoint,
} from '../core/checkpoint.js';
import { ResdetError } from '../core/errors.js';
import type { SafeTensor, SafetensorsFile } from '../core/safetensors.js';
import { type DetectorConfig, validateDetectorConfig } from './model/config.js';
import { FasterRCNN } from './model/faster-rcnn.js';

/** What a detector checkpoint records besides the weights. */
export interface DetectorMeta {
  classes: string[];
  /** COCO category id of each class (label l -> categoryIds[l - 1]) when trained on COCO json. */
  categoryIds?: number[];
  preprocessing: Preprocessing;
  training?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Writes a detector checkpoint (weights, then optimizer state, then config.json, each atomically). */
export async function saveDetector(
  dir: string,
  model: FasterRCNN,
  meta: DetectorMeta,
  optimizer?: Record<string, SafeTensor>,
): Promise<CheckpointConfig> {
  const weights = await model.stateDict();
  return saveCheckpoint(
    dir,
    {
      kind: 'detector',
      arch: model.config.arch,
      classes: meta.classes,
      preprocessing: meta.preprocessing,
      model: model.config as unknown as Record<string, unknown>,
      training: meta.training,
      extra: { ...meta.extra, ...(meta.categoryIds ? { categoryIds: meta.categoryIds } : {}) },
    },
    weights,
    optimizer,
  );
}

export interface LoadedDetectorCheckpoint {
  model: FasterRCNN;
  config: CheckpointConfig;
  meta: DetectorMeta;
  optimizer?: SafetensorsFile;
}

/** Reads a detector checkpoint directory and rebuilds the model with its weights. */
export function loadDetectorCheckpoint(
  dir: string,
  opts: { optimizer?: boolean } = {},
): LoadedDetectorCheckpoint {
  const header = readCheckpointConfig(dir);
  if (header.kind !== 'detector') {
    throw new ResdetError(
      `${dir}: holds a ${header.kind} checkpoint, not a detector`,
      'pass a directory written by `resdet train-detector` or `resdet init --kind detector`',
    );
  }
  const ckpt = loadCheckpoint(dir, { optimizer: opts.optimizer });
  const detectorConfig = ckpt.config.model as unknown as DetectorConfig;
  if (!detectorConfig || typeof detectorConfig !== 'object' || !('backbone' in detectorConfig)) {
    throw new ResdetError(`${join(dir, 'config.json')}: the "model" field does not describe a detector`);
  }
  validateDetectorConfig(detectorConfig);
  if (ckpt.config.classes.length !== detectorConfig.numClasses) {
    throw new ResdetError(
      `${join(dir, 'config.json')}: ${ckpt.config.classes.length} class names for a ${detectorConfig.numClasses}-class model`,
    );
  }
  const model = new FasterRCNN(detectorConfig);
  try {
    model.loadStateDict(ckpt.weights, join(dir, 'weights.safetensors'));
  } catch (err) {
    model.dispose();
    throw err;
  }
  const extra = { ...(ckpt.config.extra ?? {}) };
  const categoryIds = Array.isArray(extra.categoryIds) ? (extra.categoryIds as number[]) : undefined;
  delete extra.categoryIds;
  return {
    model,
    config: ckpt.config,
    meta: {
      classes: ckpt.config.classes,
      categoryIds,
      preprocessing: ckpt.config.preprocessing,
      training: ckpt.config.training,
      extra,
    },
    optimizer: opts.optimizer && existsSync(join(dir, OPTIMIZER_FILE)) ? ckpt.optimizer : undefined,
  };
}
