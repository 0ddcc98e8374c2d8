import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { ResdetError } from './errors.js';
import { resdetVersion } from './paths.js';
import { readSafetensors, type SafeTensor, type SafetensorsFile, writeSafetensors } from './safetensors.js';

/**
 * A checkpoint is a directory:
 *   config.json           what the weights are (kind, arch, classes, preprocessing, training state)
 *   weights.safetensors   parameters and buffers, by torchvision-style names
 *   optimizer.safetensors optional optimizer slots (momentum), for resuming
 * Each file is written atomically and config.json last, so a directory with a config.json always
 * holds a complete checkpoint, even if the writer was killed.
 */

export const CHECKPOINT_FORMAT_VERSION = 1;

export interface Preprocessing {
  /** Per-channel mean and std applied to RGB values in [0, 1]. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Input size the model was built for: square side for classifiers, {min,max} sides for detectors. */
  inputSize?: number;
  minSize?: number;
  maxSize?: number;
}

export interface CheckpointConfig {
  formatVersion: number;
  resdetVersion: string;
  kind: 'classifier' | 'detector' | (string & {});
  arch: string;
  classes: string[];
  preprocessing: Preprocessing;
  /** Model hyper-parameters needed to rebuild the same network. */
  model?: Record<string, unknown>;
  /** Where a run stands: iteration, epoch, rng state, schedule, ... */
  training?: Record<string, unknown>;
  /** Anything else a component wants to keep (dataset label maps, provenance). */
  extra?: Record<string, unknown>;
}

export type CheckpointConfigInput = Omit<CheckpointConfig, 'formatVersion' | 'resdetVersion'> &
  Partial<Pick<CheckpointConfig, 'formatVersion' | 'resdetVersion'>>;

export interface Checkpoint {
  dir: string;
  config: CheckpointConfig;
  weights: SafetensorsFile;
  optimizer?: SafetensorsFile;
}

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';

export function saveCheckpoint(
  dir: string,
  config: CheckpointConfigInput,
  weights: Record<string, SafeTensor>,
  optimizer?: Record<string, SafeTensor>,
): CheckpointConfig {
  mkdirSync(dir, { recursive: true });
  const full: CheckpointConfig = {
    ...config,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    resdetVersion: config.resdetVersion ?? resdetVersion(),
  };
  const meta = { format: 'resdet', kind: full.kind, arch: full.arch };
  writeSafetensors(join(dir, WEIGHTS_FILE), weights, meta);
  if (optimizer) writeSafetensors(join(dir, OPTIMIZER_FILE), optimizer, meta);
  writeFileAtomic(join(dir, CONFIG_FILE), [`${JSON.stringify(full, null, 2)}\n`]);
  return full;
}

export function readCheckpointConfig(dir: string): CheckpointConfig {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) {
    throw new ResdetError(
      `${dir}: not a resdet checkpoint (no ${CONFIG_FILE})`,
      'create one with `resdet init`, `resdet import torchvision` or a training command',
    );
  }
  let config: CheckpointConfig;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as CheckpointConfig;
  } catch (err) {
    throw new ResdetError(`${path}: invalid JSON (${(err as Error).message})`);
  }
  for (const field of ['kind', 'arch', 'classes', 'preprocessing'] as const) {
    if (config[field] === undefined) throw new ResdetError(`${path}: missing field "${field}"`);
  }
  if (typeof config.formatVersion !== 'number' || config.formatVersion > CHECKPOINT_FORMAT_VERSION) {
    throw new ResdetError(
      `${path}: checkpoint format version ${config.formatVersion} is not supported by this resdet (${CHECKPOINT_FORMAT_VERSION})`,
      'upgrade resdet',
    );
  }
  return config;
}

export function loadCheckpoint(dir: string, opts: { optimizer?: boolean } = {}): Checkpoint {
  const config = readCheckpointConfig(dir);
  const weights = readSafetensors(join(dir, WEIGHTS_FILE));
  const optPath = join(dir, OPTIMIZER_FILE);
  const optimizer = opts.optimizer && existsSync(optPath) ? readSafetensors(optPath) : undefined;
  return { dir, config, weights, optimizer };
}
