import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CheckpointConfig,
  CONFIG_FILE,
  loadCheckpoint,
  readCheckpointConfig,
} from '../../core/checkpoint.js';
import { ResdetError, UsageError } from '../../core/errors.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../core/normalization.js';
import { Rng } from '../../core/rng.js';
import { channelStats, type Normalisation } from '../../data/classification/augment.js';
import type { AugmentPlan } from '../../data/classification/batches.js';
import { loadClassificationData } from '../../data/classification/spec.js';
import { type ClassificationSet, selectExamples, setLength } from '../../data/classification/types.js';
import { classifierFromConfig, pretrainConfig, ResNetClassifier } from './model.js';
import { buildSchedule, defaultRecipeFor, getRecipe, type Recipe, type ScheduleKind } from './recipes.js';
import { METRICS_FILE, MetricsLog } from '../../core/train/metrics.js';
import { readResumeState } from '../../core/train/resume.js';
import { Sgd, uniformDecay } from '../../core/train/sgd.js';
import { initialRunState, mixSeed, type RunState } from './state.js';
import { batchesPerEpoch, type TrainResult, trainLoop } from './trainer.js';

/** torchvision's ImageNet statistics, used for image-file datasets (no pass over the files). */
export const IMAGENET_NORM: Normalisation = { mean: IMAGENET_MEAN, std: IMAGENET_STD };

export interface PretrainOptions {
  data?: string;
  arch?: string;
  out: string;
  recipe?: string;
  epochs?: number;
  iterations?: number;
  batchSize?: number;
  /** Largest batch that is run through the network at once; bigger batches accumulate gradients. */
  microBatch?: number;
  lr?: number;
  schedule?: ScheduleKind;
  warmupIterations?: number;
  resume?: boolean;
  maxMinutes?: number;
  /**
   * With maxMinutes: once the speed is measured, shorten the run to what fits in the time and
   * rebuild its schedule (lr steps, cosine) for that length, so it ends with its rate decayed.
   */
  fitToTime?: boolean;
  /** Stops the run, with a checkpoint, after the iteration in progress (the CLI: SIGINT/SIGTERM). */
  signal?: AbortSignal;
  subset?: number;
  /** Held-out validation images taken from the training set (default: the recipe's, CIFAR 5000). */
  valSplit?: number;
  /** Evaluate at most this many test images per epoch. */
  testSubset?: number;
  seed?: number;
  width?: number;
  /** `paper` (the recipe's augmentation, default) or `none` (very short runs learn faster without). */
  augment?: 'paper' | 'none';
  checkpointEvery?: number;
  /** Batch-building worker threads (default 1; 0 builds batches on the training thread). */
  workers?: number;
  silent?: boolean;
  log?: (line: string) => void;
}

/** The run's settings as stored in the checkpoint, so --resume rebuilds exactly the same run. */
export interface RunSettings {
  data: string;
  arch: string;
  recipe: string;
  batchSize: number;
  microBatch: number;
  lr: number;
  schedule: ScheduleKind;
  warmupIterations: number;
  totalIterations: number;
  subset: number | null;
  valSplit: number;
  testSubset: number | null;
  seed: number;
  width: number | null;
  augment: 'paper' | 'none';
  checkpointEvery: number | null;
}

export interface PretrainResult extends TrainResult {
  settings: RunSettings;
  outDir: string;
}

function pick(set: ClassificationSet, idx: number[], name: string): ClassificationSet {
  return selectExamples(set, idx, name);
}

/** Subset and train/val split, both from seeded permutations so a resumed run sees the same data. */
function prepareSets(s: RunSettings) {
  const data = loadClassificationData(s.data);
  let train = data.train;
  if (s.subset !== null && s.subset < setLength(train)) {
    const idx = new Rng(mixSeed(s.seed, 101)).permutation(setLength(train)).slice(0, s.subset);
    train = pick(train, idx, `${train.name}[subset ${s.subset}]`);
  }
  let val: ClassificationSet | undefined;
  if (s.valSplit > 0) {
    if (s.valSplit >= setLength(train)) {
      throw new UsageError(
        `--val-split ${s.valSplit} leaves no training images (${setLength(train)} in all)`,
      );
    }
    const order = new Rng(mixSeed(s.seed, 202)).permutation(setLength(train));
    const cut = setLength(train) - s.valSplit;
    val = pick(train, order.slice(cut), `${train.name}:val`);
    train = pick(train, order.slice(0, cut), `${train.name}:train`);
  }
  let test = data.test;
  if (s.testSubset !== null && s.testSubset < setLength(test)) {
    const idx = new Rng(mixSeed(s.seed, 303)).permutation(setLength(test)).slice(0, s.testSubset);
    test = pick(test, idx, `${test.name}[subset ${s.testSubset}]`);
  }
  return { data, train, val, test };
}

function channelsOf(set: ClassificationSet): number {
  return set.kind === 'memory' ? set.channels : 3;
}

/** Micro-batch that fits: whole batches for CIFAR-size inputs, 32 images at ImageNet sizes. */
function defaultMicroBatch(recipe: Recipe, batchSize: number, set: ClassificationSet): number {
  if (set.kind === 'memory') return batchSize;
  return Math.min(batchSize, recipe.scale.crop >= 160 ? 32 : batchSize);
}

function settingsFrom(opts: PretrainOptions, previous?: CheckpointConfig): RunSettings {
  if (previous) {
    const stored = previous.training?.settings as RunSettings | undefined;
    if (!stored) throw new ResdetError(`${opts.out}: the checkpoint has no pretraining settings to resume`);
    const s = { ...stored };
    if (opts.data && opts.data !== stored.data) s.data = opts.data; // the same data moved elsewhere
    // A longer (or shorter) run may be asked for on resume; everything else stays as stored.
    if (opts.iterations !== undefined) s.totalIterations = opts.iterations;
    else if (opts.epochs !== undefined) s.totalIterations = -opts.epochs;
    return s;
  }
  if (!opts.data) throw new UsageError('--data is required (e.g. --data fashion-mnist or cifar10:DIR)');
  if (!opts.arch) throw new UsageError('--arch is required (e.g. --arch resnet20)');
  const seed = opts.seed ?? 1;
  const arch = opts.arch;
  const probe = pretrainConfig(arch, { classes: 10, inChannels: 3, seed });
  const recipe = getRecipe(opts.recipe ?? defaultRecipeFor(probe.stem));
  const batchSize = opts.batchSize ?? recipe.batchSize;
  const isCifar = opts.data.startsWith('cifar10:');
  return {
    data: opts.data,
    arch,
    recipe: recipe.name,
    batchSize,
    microBatch: opts.microBatch ?? 0,
    lr: opts.lr ?? recipe.lr * (opts.batchSize ? batchSize / recipe.batchSize : 1),
    schedule: opts.schedule ?? recipe.schedule,
    warmupIterations: opts.warmupIterations ?? 0,
    // Negative: a number of epochs, converted once the training set size is known.
    totalIterations: opts.iterations ?? (opts.epochs !== undefined ? -opts.epochs : recipe.iterations),
    subset: opts.subset ?? null,
    valSplit: opts.valSplit ?? (recipe.name === 'cifar' && isCifar ? recipe.valSplit : 0),
    testSubset: opts.testSubset ?? null,
    seed,
    width: opts.width ?? null,
    augment: opts.augment ?? 'paper',
    checkpointEvery: opts.checkpointEvery ?? null,
  };
}

/** `resdet pretrain`: trains (or resumes) a classifier with the paper's recipe. */
export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const outDir = opts.out;
  const hasCheckpoint = existsSync(join(outDir, CONFIG_FILE));
  if (opts.resume && !hasCheckpoint) {
    throw new ResdetError(
      `${outDir}: nothing to resume (no ${CONFIG_FILE})`,
      'start the run without --resume',
    );
  }
  if (!opts.resume && hasCheckpoint) {
    throw new ResdetError(
      `${outDir} already holds a training run`,
      'add --resume to continue it, or choose another --out directory',
    );
  }
  const previous = opts.resume ? readCheckpointConfig(outDir) : undefined;
  const s = settingsFrom(opts, previous);
  const recipe = getRecipe(s.recipe);
  const { data, train, val, test } = prepareSets(s);
  const bs = Math.min(s.batchSize, setLength(train));
  if (s.totalIterations < 0) s.totalIterations = -s.totalIterations * batchesPerEpoch(setLength(train), bs);
  if (s.microBatch <= 0) s.microBatch = defaultMicroBatch(recipe, bs, train);
  const norm: Normalisation =
    (previous?.extra?.normalisation as Normalisation | undefined) ??
    (train.kind === 'memory' ? channelStats(train) : IMAGENET_NORM);
  const plan: AugmentPlan = {
    small: s.augment === 'none' ? { pad: 0, flip: false } : recipe.small,
    scale:
      s.augment === 'none'
        ? { ...recipe.scale, scaleMax: recipe.scale.scaleMin, flip: false, lighting: 0 }
        : recipe.scale,
    eval: recipe.eval,
  };

  let net: ResNetClassifier;
  let state: RunState;
  const sgdOptions = { momentum: recipe.momentum, weightDecay: uniformDecay(recipe.weightDecay) };
  let sgd: Sgd;
  if (previous) {
    const ckpt = loadCheckpoint(outDir, { optimizer: true });
    net = classifierFromConfig(s.arch, ckpt.config.model);
    net.loadStateDict(ckpt.weights);
    sgd = new Sgd(net.params(), sgdOptions);
    if (ckpt.optimizer) sgd.loadStateFile(ckpt.optimizer);
    const resume = readResumeState(ckpt.config.training, outDir);
    if (!resume) throw new ResdetError(`${outDir}/${CONFIG_FILE}: no run state to resume`);
    // The task's own state (epoch, position in it, schedule decisions) next to the common one.
    state = ckpt.config.training?.state as RunState;
    new MetricsLog(join(outDir, METRICS_FILE)).truncateAfter(resume.iteration);
    log(
      `resuming ${s.arch} at iteration ${resume.iteration}/${s.totalIterations} (epoch ${state.epoch + 1})`,
    );
  } else {
    mkdirSync(outDir, { recursive: true });
    const config = pretrainConfig(s.arch, {
      classes: train.classes.length,
      inChannels: channelsOf(train),
      seed: s.seed,
      width: s.width ?? undefined,
    });
    net = new ResNetClassifier(s.arch, config);
    sgd = new Sgd(net.params(), sgdOptions);
    state = initialRunState(s.seed);
  }
  const scheduleFor = (totalIterations: number) =>
    buildSchedule(recipe, {
      lr: s.lr,
      totalIterations,
      schedule: s.schedule,
      depth: net.depth,
      warmupIterations: s.warmupIterations,
    });
  const schedule = scheduleFor(s.totalIterations);
  const side = train.kind === 'memory' ? train.height : recipe.scale.crop;
  const pad3 = (v: readonly number[]): [number, number, number] =>
    v.length === 3 ? (v as [number, number, number]) : [v[0], v[0], v[0]];
  try {
    const result = await trainLoop({
      net,
      sgd,
      train,
      val,
      test,
      norm,
      plan,
      schedule,
      batchSize: bs,
      microBatch: s.microBatch,
      totalIterations: s.totalIterations,
      state,
      outDir,
      // The total (and the schedule built for it) as the run stands at the save, so --resume
      // continues a run that fit-to-time shortened with the same schedule.
      checkpoint: (totalIterations) => ({
        kind: 'classifier',
        arch: s.arch,
        classes: train.classes,
        preprocessing: { mean: pad3(norm.mean), std: pad3(norm.std), inputSize: side },
        model: net.modelConfig(),
        training: {
          settings: { ...s, totalIterations },
          schedule: totalIterations === s.totalIterations ? schedule : scheduleFor(totalIterations),
          recipe: recipe.name,
        },
        extra: { normalisation: norm, dataset: data.spec, task: 'pretrain' },
      }),
      maxMinutes: opts.maxMinutes,
      fitToTime: opts.fitToTime && opts.maxMinutes !== undefined ? { rebuild: scheduleFor } : undefined,
      signal: opts.signal,
      checkpointEvery: s.checkpointEvery ?? undefined,
      evalLimit: undefined,
      workers: opts.workers,
      silent: opts.silent,
      log,
    });
    return { ...result, settings: { ...s, totalIterations: result.totalIterations }, outDir };
  } finally {
    net.dispose();
    sgd.dispose();
  }
}
