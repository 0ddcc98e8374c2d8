import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { ResdetError } from './errors.js';
import type { Normalization } from './normalization.js';
import { resdetVersion } from './paths.js';
import {
  readSafetensors,
  readSafetensorsHeader,
  type SafeTensor,
  type SafetensorsFile,
  writeSafetensors,
} from './safetensors.js';

/**
 * A checkpoint is a directory:
 *   config.json           what the weights are (kind, arch, classes, preprocessing, training state)
 *   weights.safetensors   parameters and buffers, by torchvision-style names
 *   optimizer.safetensors optional optimizer slots (momentum), for resuming
 * Saving is a two-phase commit, so a kill at any instant leaves either the old checkpoint or the
 * new one, never new weights under an old config: the tensors go to `*.next` files tagged with a
 * commit token, then config.json (naming that token) replaces the old one atomically — the commit
 * point — and only then are the `.next` files renamed into place. A reader that finds `.next`
 * files finishes the renames when their token matches config.json and discards them otherwise.
 */

export const CHECKPOINT_FORMAT_VERSION = 1;

export interface Preprocessing extends Normalization {
  /** Per-channel mean and std applied to RGB values in [0, 1] (three channels in a checkpoint). */
  mean: [number, number, number];
  std: [number, number, number];
  /** Input size the model was built for: square side for classifiers, {min,max} sides for detectors. */
  inputSize?: number;
  minSize?: number;
  maxSize?: number;
  /**
   * detectron2's input conventions (absent: resdet's/torchvision's). `channelOrder` 'bgr': the
   * network sees B, G, R and mean/std are listed in that order. `valueRange` '0-255': mean/std
   * apply to pixel values 0..255 (detectron2's [103.53, 116.28, 123.675], std 1). `resize`
   * 'pil-bilinear': detectron2's ResizeShortestEdge (its size rule, Pillow's bilinear filter on
   * the 8-bit image) instead of sharp's bilinear.
   */
  channelOrder?: 'rgb' | 'bgr';
  valueRange?: '0-1' | '0-255';
  resize?: 'sharp-linear' | 'pil-bilinear';
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
  /** Token shared with the weight files of the same save (see the two-phase commit above). */
  commit?: string;
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

const NEXT = '.next';

export function saveCheckpoint(
  dir: string,
  config: CheckpointConfigInput,
  weights: Record<string, SafeTensor>,
  optimizer?: Record<string, SafeTensor>,
): CheckpointConfig {
  mkdirSync(dir, { recursive: true });
  recoverCheckpoint(dir);
  const commit = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const full: CheckpointConfig = {
    ...config,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    resdetVersion: config.resdetVersion ?? resdetVersion(),
    commit,
  };
  const meta = { format: 'resdet', kind: full.kind, arch: full.arch, commit };
  const files: Array<[string, Record<string, SafeTensor>]> = [[WEIGHTS_FILE, weights]];
  if (optimizer) files.push([OPTIMIZER_FILE, optimizer]);
  for (const [name, tensors] of files) writeSafetensors(join(dir, name + NEXT), tensors, meta);
  writeFileAtomic(join(dir, CONFIG_FILE), [`${JSON.stringify(full, null, 2)}\n`]);
  for (const [name] of files) renameSync(join(dir, name + NEXT), join(dir, name));
  return full;
}

/**
 * Finishes or rolls back a save that was interrupted between its phases (see the file comment).
 * Called by every reader and writer, so callers never see a torn checkpoint.
 */
export function recoverCheckpoint(dir: string): void {
  const configPath = join(dir, CONFIG_FILE);
  let commit: string | undefined;
  if (existsSync(configPath)) {
    try {
      commit = (JSON.parse(readFileSync(configPath, 'utf8')) as { commit?: string }).commit;
    } catch {
      commit = undefined;
    }
  }
  for (const name of [WEIGHTS_FILE, OPTIMIZER_FILE]) {
    const next = join(dir, name + NEXT);
    if (!existsSync(next)) continue;
    let token: unknown;
    try {
      token = (readSafetensorsHeader(next).__metadata__ as { commit?: string } | undefined)?.commit;
    } catch {
      token = undefined;
    }
    if (commit !== undefined && token === commit) renameSync(next, join(dir, name));
    else rmSync(next, { force: true });
  }
}

export function readCheckpointConfig(dir: string): CheckpointConfig {
  const path = join(dir, CONFIG_FILE);
  if (existsSync(path)) recoverCheckpoint(dir);
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
