import { UsageError } from '../../core/errors.js';
import type { SmallAugment } from '../../data/classification/augment.js';
import type { EvalTransform, ScaleAugment } from '../../data/classification/file-augment.js';
import type { DecayRule, ScheduleSpec, WarmupRule } from '../../core/train/schedule.js';

export type RecipeName = 'imagenet' | 'cifar';
export type ScheduleKind = 'steps' | 'cosine' | 'plateau' | 'constant';

/** Everything a run needs besides the data and the network: the paper's training settings. */
export interface Recipe {
  name: RecipeName;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Default length when neither --epochs nor --iterations is given. */
  iterations: number;
  schedule: ScheduleKind;
  /** Milestones as fractions of the run (CIFAR: 32k/64k, 48k/64k), so shorter runs keep the shape. */
  milestones: number[];
  /** Plateau rule: epochs without improvement before dividing by 10. */
  patience: number;
  /** Held-out images taken from the training set for validation (CIFAR: 45k/5k). */
  valSplit: number;
  small: SmallAugment;
  scale: ScaleAugment;
  eval: EvalTransform;
}

/** Paper §4.2: CIFAR-10 nets. */
export const CIFAR_RECIPE: Recipe = {
  name: 'cifar',
  batchSize: 128,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  iterations: 64_000,
  schedule: 'steps',
  milestones: [32_000 / 64_000, 48_000 / 64_000],
  patience: 0,
  valSplit: 5000,
  small: { pad: 4, flip: true },
  scale: { scaleMin: 32, scaleMax: 40, crop: 32, flip: true, lighting: 0 },
  eval: { resize: 32, crop: 32 },
};

/** Paper §3.4: ImageNet nets (60 x 10^4 iterations at batch 256, /10 on plateaus). */
export const IMAGENET_RECIPE: Recipe = {
  name: 'imagenet',
  batchSize: 256,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  iterations: 600_000,
  schedule: 'plateau',
  milestones: [1 / 3, 2 / 3],
  patience: 3,
  valSplit: 0,
  small: { pad: 4, flip: true },
  scale: { scaleMin: 256, scaleMax: 480, crop: 224, flip: true, lighting: 0.1 },
  eval: { resize: 256, crop: 224 },
};

export const RECIPES: Record<RecipeName, Recipe> = { cifar: CIFAR_RECIPE, imagenet: IMAGENET_RECIPE };

export function getRecipe(name: string): Recipe {
  if (name !== 'cifar' && name !== 'imagenet') {
    throw new UsageError(`--recipe: unknown recipe "${name}"`, 'use imagenet or cifar');
  }
  return RECIPES[name];
}

/** CIFAR-style nets (3x3 stem, 32x32 input) use the CIFAR recipe; ImageNet nets the ImageNet one. */
export function defaultRecipeFor(stem: 'cifar' | 'imagenet'): RecipeName {
  return stem === 'cifar' ? 'cifar' : 'imagenet';
}

export function buildSchedule(
  recipe: Recipe,
  opts: {
    lr: number;
    totalIterations: number;
    schedule: ScheduleKind;
    depth: number;
    warmupIterations?: number;
  },
): ScheduleSpec {
  let decay: DecayRule;
  switch (opts.schedule) {
    case 'steps':
      decay = {
        kind: 'steps',
        milestones: recipe.milestones.map((f) => Math.round(f * opts.totalIterations)),
        gamma: 0.1,
      };
      break;
    case 'cosine':
      decay = { kind: 'cosine', minFactor: 0.001 };
      break;
    case 'plateau':
      decay = { kind: 'plateau', gamma: 0.1, patience: Math.max(1, recipe.patience), threshold: 0.001 };
      break;
    default:
      decay = { kind: 'constant' };
  }
  let warmup: WarmupRule = { kind: 'none' };
  // Paper §4.2: "for the 110-layer network ... 0.1 is slightly too large to start converging. So we
  // use 0.01 to warm up the training until the training error is below 80% (about 400 iterations)".
  if (recipe.name === 'cifar' && opts.depth >= 110) {
    warmup = { kind: 'until-error', lr: opts.lr / 10, errorBelow: 0.8, maxIterations: 2000 };
  }
  if (opts.warmupIterations && opts.warmupIterations > 0) {
    warmup = { kind: 'linear', iterations: opts.warmupIterations, startFactor: 0.1 };
  }
  return { baseLr: opts.lr, decay, warmup };
}
