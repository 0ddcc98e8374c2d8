import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CheckpointConfig,
  loadCheckpoint,
  OPTIMIZER_FILE,
  type Preprocessing,
  readCheckpointConfig,
  saveCheckpoint,
} from '../../core/checkpoint.js';
import { ResdetError } from '../../core/errors.js';
import type { SafeTensor, SafetensorsFile } from '../../core/safetensors.js';
import type { DetectorConfig } from '../model/config.js';
import type { FpnDetectorConfig } from '../model/fpn-config.js';
import { buildDetector, type TwoStageDetector } from '../model/two-stage.js';

/** What a detector checkpoint records besides the weights. */
export interface DetectorMeta {
  classes: string[];
  /** COCO category id of each class (label l -> categoryIds[l - 1]) when trained on COCO json. */
  categoryIds?: number[];
  /**
   * `background-first`: classes[0] is the background and class index = model label (torchvision's
   * 91-id COCO layout, where the index is the COCO category id); default: classes[l - 1] for label l.
   */
  labelLayout?: 'background-first';
  preprocessing: Preprocessing;
  training?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Writes a detector checkpoint (weights, then optimizer state, then config.json, each atomically). */
export async function saveDetector(
  dir: string,
  model: TwoStageDetector,
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
      extra: {
        ...meta.extra,
        ...(meta.categoryIds ? { categoryIds: meta.categoryIds } : {}),
        ...(meta.labelLayout ? { labelLayout: meta.labelLayout } : {}),
      },
    },
    weights,
    optimizer,
  );
}

export interface LoadedDetectorCheckpoint {
  model: TwoStageDetector;
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
  const detectorConfig = ckpt.config.model as unknown as DetectorConfig | FpnDetectorConfig;
  const model = buildDetector(detectorConfig, join(dir, 'config.json'));
  const backgroundFirst = ckpt.config.extra?.labelLayout === 'background-first';
  const wantClasses = model.numClasses + (backgroundFirst ? 1 : 0);
  if (ckpt.config.classes.length !== wantClasses) {
    model.dispose();
    throw new ResdetError(
      `${join(dir, 'config.json')}: ${ckpt.config.classes.length} class names for a ${model.numClasses}-class model${backgroundFirst ? ' (background first)' : ''}`,
    );
  }
  try {
    model.loadStateDict(ckpt.weights, join(dir, 'weights.safetensors'));
  } catch (err) {
    model.dispose();
    throw err;
  }
  const extra = { ...(ckpt.config.extra ?? {}) };
  const categoryIds = Array.isArray(extra.categoryIds) ? (extra.categoryIds as number[]) : undefined;
  delete extra.categoryIds;
  delete extra.labelLayout;
  return {
    model,
    config: ckpt.config,
    meta: {
      classes: ckpt.config.classes,
      categoryIds,
      ...(backgroundFirst ? { labelLayout: 'background-first' as const } : {}),
      preprocessing: ckpt.config.preprocessing,
      training: ckpt.config.training,
      extra,
    },
    optimizer: opts.optimizer && existsSync(join(dir, OPTIMIZER_FILE)) ? ckpt.optimizer : undefined,
  };
}
