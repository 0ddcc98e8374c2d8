export { type DegradationOptions, type DegradationResult, degradationExperiment } from './degradation.js';
export { curvesChart, type RunCurves, readRunCurves } from './curves.js';
export { type EvalResult, evaluateClassifier } from './evaluate.js';
export { type EvaluateModelOptions, type EvaluateModelResult, evaluateModel } from './evaluate-model.js';
export { classifierFromConfig, pretrainConfig, ResNetClassifier } from './model.js';
export type { ClassifierNet } from './net.js';
export { buildSchedule, CIFAR_RECIPE, IMAGENET_RECIPE, type Recipe, RECIPES } from './recipes.js';
export {
  IMAGENET_NORM,
  type PretrainOptions,
  type PretrainResult,
  pretrain,
  type RunSettings,
} from './run.js';
export { ensureStridedSliceGradient } from './strided-slice-grad.js';
