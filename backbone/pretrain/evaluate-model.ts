import { ResdetError } from '../../core/errors.js';
import { loadClassifierCheckpoint } from '../classifier.js';
import type { Normalisation } from '../../data/classification/augment.js';
import { loadClassificationData } from '../../data/classification/spec.js';
import { selectExamples, setLength } from '../../data/classification/types.js';
import { type EvalResult, evaluateClassifier } from './evaluate.js';
import { classifierFromConfig } from './model.js';
import { getRecipe } from './recipes.js';

export interface EvaluateModelOptions {
  model: string;
  data?: string;
  tenCrop?: boolean;
  batchSize?: number;
  /** Evaluate the first N test images only. */
  limit?: number;
  /** Evaluate the training split instead (for training-error curves). */
  split?: 'test' | 'train';
  onBatch?: (done: number, total: number) => void;
}

export interface EvaluateModelResult extends EvalResult {
  model: string;
  arch: string;
  data: string;
  split: string;
  tenCrop: boolean;
}

/** `resdet evaluate`: top-1/top-5 error of a pretrained classifier on a dataset's test split. */
export async function evaluateModel(opts: EvaluateModelOptions): Promise<EvaluateModelResult> {
  const ckpt = loadClassifierCheckpoint(
    opts.model,
    (kind) =>
      new ResdetError(
        `${opts.model}: a ${kind} checkpoint, not a classifier`,
        'give a pretraining run directory',
      ),
  );
  const cfg = ckpt.config;
  const dataSpec = opts.data ?? (cfg.extra?.dataset as string | undefined);
  if (!dataSpec) throw new ResdetError('--data is required (the checkpoint does not name its dataset)');
  const data = loadClassificationData(dataSpec);
  const split = opts.split ?? 'test';
  let set = split === 'train' ? data.train : data.test;
  if (set.classes.length !== cfg.classes.length) {
    throw new ResdetError(
      `${opts.model} predicts ${cfg.classes.length} classes but ${dataSpec} has ${set.classes.length}`,
      'evaluate on the dataset the model was trained on',
    );
  }
  if (opts.limit !== undefined && opts.limit < setLength(set)) {
    set = selectExamples(
      set,
      Array.from({ length: opts.limit }, (_, i) => i),
      set.name,
    );
  }
  const norm: Normalisation = (cfg.extra?.normalisation as Normalisation | undefined) ?? {
    mean: cfg.preprocessing.mean,
    std: cfg.preprocessing.std,
  };
  const recipeName = (cfg.training?.recipe as string | undefined) ?? 'imagenet';
  const recipe = getRecipe(recipeName);
  const net = classifierFromConfig(cfg.arch, cfg.model);
  try {
    net.loadStateDict(ckpt.weights);
    const r = await evaluateClassifier(
      net,
      set,
      norm,
      { small: recipe.small, scale: recipe.scale, eval: recipe.eval },
      { batchSize: opts.batchSize ?? 100, tenCrop: opts.tenCrop, onBatch: opts.onBatch },
    );
    return { ...r, model: opts.model, arch: cfg.arch, data: dataSpec, split, tenCrop: Boolean(opts.tenCrop) };
  } finally {
    net.dispose();
  }
}
