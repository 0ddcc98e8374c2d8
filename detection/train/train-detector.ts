import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointResNetConfig, loadClassifierCheckpoint } from '../../backbone/classifier.js';
import { archSpec, type ResNetConfig } from '../../backbone/config.js';
import { CONFIG_FILE, type Preprocessing } from '../../core/checkpoint.js';
import { ResdetError, UsageError } from '../../core/errors.js';
import type { SafeTensor } from '../../core/safetensors.js';
import { formatProblem } from '../../data/detection/problems.js';
import { type DatasetInput, openDatasetInput, parseDatasetSpec } from '../../data/detection/spec.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import { loadDetectorCheckpoint } from '../app/checkpoint.js';
import { makeDetector } from '../app/detector.js';
import { parseBackboneArch } from '../app/init.js';
import { detectDataset, evaluateDetections } from '../app/evaluate.js';
import { type DetectorConfig, detectorConfig, type RoiHeadsConfig, type RpnConfig } from '../model/config.js';
import { FasterRCNN } from '../model/faster-rcnn.js';
import { fineTuneDetector } from './fine-tune.js';
import type { FpnDetectorConfig } from '../model/fpn-config.js';
import { sizeDivisibleOf, type TwoStageDetector } from '../model/two-stage.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../app/preprocess.js';
import { DETECTOR_TRAINING_DEFAULTS as DEFAULTS } from './defaults.js';
import { trainingBatches } from './loader.js';
import { readResumeState } from '../../core/train/resume.js';
import type { ScheduleSpec } from '../../core/train/schedule.js';
import { defaultSteps, detectorSchedule, storedDetectorSchedule } from './schedule.js';
import { runTraining, type TrainResult } from './trainer.js';

export type DetectorPreset = 'paper' | 'cpu';

/**
 * `cpu`: the paper's design with a lighter per-RoI workload for CPU training: 7x7 pooling (conv5_x
 * then runs at 4x4), 64 RoIs per image, fewer proposals. `paper`: the paper's numbers throughout.
 */
export const PRESETS: Record<DetectorPreset, { rpn: Partial<RpnConfig>; roiHeads: Partial<RoiHeadsConfig> }> =
  {
    paper: { rpn: {}, roiHeads: {} },
    cpu: {
      rpn: { preNmsTopNTrain: 2000, postNmsTopNTrain: 500, preNmsTopNTest: 1000, postNmsTopNTest: 100 },
      roiHeads: { poolSize: 7, batchSizePerImage: 64 },
    },
  };

export interface TrainDetectorOptions {
  /** Head and proposal settings to start from (default paper); rpn/roiHeads override them. */
  preset?: DetectorPreset;
  /**
   * Dataset spec (voc:ROOT:split, coco:ANN.json:IMAGE_DIR, A+B), or a dataset object (openDataset's,
   * or in memory: annotations as DetectionSamples whose `path`s name image files).
   */
  data: DatasetInput;
  out: string;
  /**
   * A classifier checkpoint directory (pretrained: frozen BN) or an architecture name (from
   * scratch). Required for a new run; a resumed run has its backbone in the checkpoint.
   */
  backbone?: string;
  /**
   * A detector checkpoint to fine-tune (trained, or imported from torchvision): everything is kept
   * but the box predictor, which is rebuilt for the data's classes (unless keepPredictor).
   */
  from?: string;
  keepPredictor?: boolean;
  /** With `from`: frozen BN (default) or BN trained with batch statistics. */
  bn?: 'frozen' | 'trainable';
  /** First-stage width for a from-scratch backbone (16 gives the small CPU detector). */
  baseWidth?: number;
  /** The run's total (default DEFAULT_DETECTOR_ITERATIONS; a resumed run keeps its own unless given). */
  iterations?: number;
  maxMinutes?: number;
  /** Shrink the run (and its lr steps) to what fits in maxMinutes at the measured speed. */
  fitToTime?: boolean;
  /** Stops the run, with a checkpoint, after the iteration in progress (the CLI: SIGINT/SIGTERM). */
  signal?: AbortSignal;
  resume?: boolean;
  /** Start over even if `out` holds a checkpoint. */
  force?: boolean;
  evalEvery?: number;
  /** Evaluation set for --eval-every (default: the test split next to a VOC training split). */
  evalData?: DatasetInput;
  /** Images evaluated each time (default 200). */
  evalImages?: number;
  minSize?: number;
  maxSize?: number;
  anchorSizes?: number[];
  aspectRatios?: number[];
  imagesPerBatch?: number;
  lr?: number;
  warmupIters?: number;
  steps?: number[];
  checkpointEvery?: number;
  freezeAt?: number;
  rpn?: Partial<RpnConfig>;
  roiHeads?: Partial<RoiHeadsConfig>;
  seed?: number;
  flip?: boolean;
  silent?: boolean;
  /** Recorded in the checkpoint (e.g. the backend the run used). */
  info?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface TrainDetectorResult extends TrainResult {
  dataset: string;
  images: number;
  config: DetectorConfig | FpnDetectorConfig;
}

/** The paper's per-dataset NMS choice: 0.3 for VOC-style sets, 0.5 for COCO. */
function defaultNms(spec: DatasetInput): number {
  if (typeof spec !== 'string') return spec.categoryIds ? 0.5 : 0.3;
  return parseDatasetSpec(spec).sources.every((s) => s.kind === 'coco') ? 0.5 : 0.3;
}

function defaultEvalSpec(spec: DatasetInput): string | undefined {
  if (typeof spec !== 'string') return undefined;
  const parsed = parseDatasetSpec(spec);
  const first = parsed.sources[0];
  if (parsed.sources.length === 1 && first.kind === 'voc' && first.split !== 'test') {
    if (existsSync(join(first.root, 'ImageSets', 'Main', 'test.txt'))) return `voc:${first.root}:test`;
  }
  return undefined;
}

interface BackboneSource {
  arch: string;
  weights?: Record<string, SafeTensor>;
  pretrained: boolean;
  baseWidth?: number;
  overrides?: Partial<ResNetConfig>;
  preprocessing?: Preprocessing;
}

function resolveBackbone(spec: string, baseWidth: number | undefined): BackboneSource {
  if (existsSync(join(spec, CONFIG_FILE))) {
    const ckpt = loadClassifierCheckpoint(
      spec,
      (kind) =>
        new UsageError(
          `--backbone ${spec}: a ${kind} checkpoint; a backbone must be a classifier checkpoint`,
          'pass a directory from `resdet pretrain`/`resdet import torchvision`, or an architecture name',
        ),
    );
    const { config } = ckpt;
    const weights: Record<string, SafeTensor> = {};
    for (const name of ckpt.weights.names())
      if (!name.startsWith('fc.')) weights[name] = ckpt.weights.tensor(name);
    const resnet = checkpointResNetConfig(config, spec);
    return {
      arch: config.arch,
      weights,
      pretrained: true,
      baseWidth: resnet.baseWidth,
      overrides: {
        stridePlacement: resnet.stridePlacement,
        shortcut: resnet.shortcut,
        residual: resnet.residual,
        layers: resnet.layers,
        block: resnet.block,
      },
      preprocessing: config.preprocessing,
    };
  }
  const parsed = parseBackboneArch(spec);
  try {
    archSpec(parsed.arch);
  } catch {
    throw new UsageError(
      `--backbone ${spec}: neither a checkpoint directory nor an architecture name`,
      'pass a classifier checkpoint directory or e.g. resnet50, resnet18, resnet18-w16 (see `resdet models`)',
    );
  }
  return { arch: parsed.arch, pretrained: false, baseWidth: baseWidth ?? parsed.baseWidth };
}

function requiredBackbone(backbone: string | undefined): string {
  if (backbone === undefined) {
    throw new UsageError(
      'a new run needs --backbone',
      'give a classifier checkpoint or an architecture (resnet50, resnet18-w16, ...), or --resume a run',
    );
  }
  return backbone;
}

/** The paper-style default run length when none is given. */
export const DEFAULT_DETECTOR_ITERATIONS = DEFAULTS.solver.iterations;

/**
 * `resdet train-detector` as a library call: opens the data, builds (or resumes) the detector,
 * trains it and writes checkpoints, metrics.jsonl and loss.png to `out`.
 */
export async function trainDetector(opts: TrainDetectorOptions): Promise<TrainDetectorResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const hasCheckpoint = existsSync(join(opts.out, CONFIG_FILE));
  // Checked before the data is opened: a usage error should not wait for a large set.
  if (!opts.resume && !opts.from) requiredBackbone(opts.backbone);
  if (opts.from && opts.backbone)
    throw new UsageError('--from and --backbone exclude each other', '--from starts from a whole detector');
  if (opts.resume && !hasCheckpoint) {
    throw new UsageError(
      `--resume: ${opts.out} holds no checkpoint to resume`,
      'drop --resume to start a new run',
    );
  }
  if (!opts.resume && hasCheckpoint && !opts.force) {
    throw new UsageError(
      `${opts.out} already holds a checkpoint`,
      'pass --resume to continue that run, --force to start over, or choose another --out',
    );
  }
  const dataset = await openDatasetInput(opts.data, { skipBad: true });
  // What the checkpoint records as the run's data: the spec as given, else the object's name.
  const dataLabel = typeof opts.data === 'string' ? opts.data : dataset.name;
  for (const note of dataset.notes ?? []) log(note);
  const firstProblem = dataset.problems[0];
  const example = firstProblem ? formatProblem(firstProblem) : '';
  if (dataset.skipped.images + dataset.skipped.objects > 0) {
    log(
      `${dataset.name}: skipped ${dataset.skipped.images} images and ${dataset.skipped.objects} objects with bad data (first: ${example})`,
    );
  }
  if (dataset.length === 0) throw new ResdetError(`${dataset.name}: no images to train on`);
  let objects = 0;
  for (let i = 0; i < dataset.length; i++) objects += dataset.get(i).labels.length;
  if (objects === 0) {
    throw new ResdetError(
      `${dataset.name}: no objects to train on${dataset.skipped.objects > 0 ? ` (all ${dataset.skipped.objects} were skipped as bad data; first: ${example})` : ''}`,
      'check the annotations and, for a VOC layout, the class names (ROOT/classes.txt)',
    );
  }

  let model: TwoStageDetector;
  let preprocessing: Preprocessing;
  let startIteration = 0;
  let optimizerState: Record<string, SafeTensor> | undefined;
  let rngState: number | undefined;
  let elapsedBefore = 0;
  let imagesPerBatch = opts.imagesPerBatch ?? DEFAULTS.solver.imagesPerBatch;
  let schedule: ScheduleSpec;
  let seed = opts.seed ?? DEFAULTS.solver.seed;
  let extra: Record<string, unknown> = {};
  let iterations = opts.iterations ?? DEFAULT_DETECTOR_ITERATIONS;
  if (opts.resume) {
    const loaded = loadDetectorCheckpoint(opts.out, { optimizer: true });
    model = loaded.model;
    preprocessing = loaded.meta.preprocessing;
    if (loaded.meta.classes.join('\n') !== dataset.classes.join('\n')) {
      model.dispose();
      throw new ResdetError(
        `--resume: the checkpoint's classes (${loaded.meta.classes.join(', ')}) differ from ${dataset.name}'s (${dataset.classes.join(', ')})`,
      );
    }
    const t = loaded.meta.training ?? {};
    // A checkpoint without a run (`resdet init`) trains from iteration 0.
    const resume = readResumeState(t, opts.out);
    startIteration = resume?.iteration ?? 0;
    iterations = opts.iterations ?? resume?.totalIterations ?? iterations;
    if (startIteration >= iterations) {
      model.dispose();
      throw new UsageError(
        `--resume: ${opts.out} is already at iteration ${startIteration}, and ${opts.iterations === undefined ? "the run's total" : '--iterations'} is ${iterations}`,
        "give a larger --iterations (the run's new total) to train on",
      );
    }
    rngState = typeof t.rngState === 'number' ? t.rngState : undefined;
    elapsedBefore = resume?.seconds ?? 0;
    imagesPerBatch = Number(t.imagesPerBatch ?? imagesPerBatch);
    seed = resume?.seed ?? seed;
    schedule =
      storedDetectorSchedule(t.schedule) ??
      scheduleFor(opts, iterations, imagesPerBatch, model.config.backbone.frozenBn);
    extra = loaded.meta.extra ?? {};
    if (loaded.optimizer) {
      optimizerState = {};
      for (const name of loaded.optimizer.names()) optimizerState[name] = loaded.optimizer.tensor(name);
    }
    log(`resuming ${opts.out} at iteration ${startIteration} of ${iterations}`);
  } else if (opts.from) {
    const source = loadDetectorCheckpoint(opts.from);
    try {
      model = await fineTuneDetector(source.model, {
        numClasses: dataset.classes.length,
        keepPredictor: opts.keepPredictor,
        freezeAt: opts.freezeAt ?? 2,
        frozenBn: (opts.bn ?? 'frozen') === 'frozen',
        minSize: opts.minSize,
        maxSize: opts.maxSize,
        rpn: opts.rpn,
        roiHeads: opts.roiHeads,
      });
    } finally {
      source.model.dispose();
    }
    const pre = source.meta.preprocessing;
    preprocessing = {
      ...pre,
      minSize: opts.minSize ?? pre.minSize,
      maxSize: Math.max(opts.maxSize ?? pre.maxSize ?? 0, opts.minSize ?? pre.minSize ?? 0),
    };
    schedule = scheduleFor(opts, iterations, imagesPerBatch, true);
    extra = { dataset: dataLabel, from: opts.from, pretrained: true };
  } else {
    const bb = resolveBackbone(requiredBackbone(opts.backbone), opts.baseWidth);
    const config = detectorConfig({
      arch: bb.arch,
      numClasses: dataset.classes.length,
      baseWidth: bb.baseWidth,
      backboneOverrides: bb.overrides,
      // As the paper: frozen BN and frozen conv1 + conv2_x for a pretrained trunk. A trunk that
      // starts from random weights must learn everywhere and needs batch statistics.
      frozenBn: bb.pretrained,
      freezeAt: opts.freezeAt ?? (bb.pretrained ? 2 : 0),
      anchorSizes: opts.anchorSizes,
      aspectRatios: opts.aspectRatios,
      rpn: { ...PRESETS[opts.preset ?? 'paper'].rpn, ...opts.rpn },
      roiHeads: {
        nmsThreshold: defaultNms(opts.data),
        ...PRESETS[opts.preset ?? 'paper'].roiHeads,
        ...opts.roiHeads,
      },
      seed,
    });
    const c4 = new FasterRCNN(config);
    if (bb.weights) c4.backbone.loadStateDict(bb.weights, { strict: true });
    model = c4;
    preprocessing = {
      mean: bb.preprocessing?.mean ?? IMAGENET_MEAN,
      std: bb.preprocessing?.std ?? IMAGENET_STD,
      minSize: opts.minSize ?? DEFAULTS.input.minSize,
      maxSize: opts.maxSize ?? DEFAULTS.input.maxSize,
    };
    schedule = scheduleFor(opts, iterations, imagesPerBatch, bb.pretrained);
    extra = { dataset: dataLabel, backbone: opts.backbone, pretrained: bb.pretrained };
  }

  const evalSpec = opts.evalData ?? defaultEvalSpec(opts.data);
  let evaluate: ((m: TwoStageDetector) => Promise<Record<string, number>>) | undefined;
  if (opts.evalEvery) {
    if (!evalSpec) {
      model.dispose();
      throw new UsageError(
        '--eval-every needs an evaluation set',
        'pass --eval-data SPEC (e.g. voc:ROOT:test)',
      );
    }
    const evalSet: DetectionDataset = await openDatasetInput(evalSpec, { skipBad: true });
    evaluate = async (m: TwoStageDetector) => {
      const detector = makeDetector(m, dataset.classes, preprocessing);
      const results = await detectDataset(detector, evalSet, {
        limit: opts.evalImages ?? DEFAULTS.eval.images,
        silent: true,
      });
      const ev = evaluateDetections(results, evalSet, ['voc07']);
      return { voc07_mAP: ev.voc?.mAP ?? -1 };
    };
  }

  const loader = trainingBatches(dataset, preprocessing, {
    imagesPerBatch,
    seed,
    flip: opts.flip ?? DEFAULTS.input.flip,
    sizeDivisible: sizeDivisibleOf(model),
  });
  try {
    const result = await runTraining(model, loader, {
      out: opts.out,
      iterations,
      schedule,
      momentum: DEFAULTS.solver.momentum,
      checkpointEvery: opts.checkpointEvery ?? DEFAULTS.solver.checkpointEvery,
      maxMinutes: opts.maxMinutes,
      fitToTime: opts.fitToTime,
      signal: opts.signal,
      evalEvery: opts.evalEvery,
      evaluate,
      startIteration,
      elapsedBefore,
      optimizerState,
      rngState,
      seed,
      meta: {
        classes: [...dataset.classes],
        categoryIds: dataset.categoryIds ? [...dataset.categoryIds] : undefined,
        preprocessing,
        extra,
      },
      trainingInfo: { imagesPerBatch, dataset: dataLabel, ...opts.info },
      silent: opts.silent,
      log,
    });
    return { ...result, dataset: dataset.name, images: dataset.length, config: model.config };
  } finally {
    await loader.close();
    model.dispose();
  }
}

function scheduleFor(
  opts: TrainDetectorOptions,
  iterations: number,
  imagesPerBatch: number,
  pretrained: boolean,
): ScheduleSpec {
  const s = DEFAULTS.solver;
  return detectorSchedule({
    // Per-image rates (defaults.ts): fine-tuning a pretrained trunk (frozen BN) takes a lower one
    // than a trunk trained from scratch (batch-statistics BN).
    baseLr: opts.lr ?? (pretrained ? s.lrPerImagePretrained : s.lrPerImageScratch) * imagesPerBatch,
    warmupIters: opts.warmupIters ?? Math.min(s.warmupItersMax, Math.round(iterations / 10)),
    warmupFactor: s.warmupFactor,
    steps: opts.steps ?? defaultSteps(iterations),
    gamma: s.gamma,
  });
}
