export { type ArchSummary, describeArchs } from './catalog.js';
export {
  type Classifier,
  type ClassifyOptions,
  defaultPreprocessing,
  loadClassifier,
  loadClassifierModel,
  type Prediction,
  saveClassifier,
  topK,
} from './classifier.js';
export {
  archSpec,
  type ArchSpec,
  type BlockKind,
  DEFAULT_CONFIG,
  RESNET_ARCHS,
  resnetConfig,
  type ResNetConfig,
  type ShortcutOption,
  type StemKind,
  type StridePlacement,
} from './config.js';
export { imagenetClasses } from './imagenet.js';
export { type LoadStateDictOptions, type LoadStateDictResult, ParamStore } from './params.js';
export { countResNet, planResNet, type ResNetCost, type ResNetPlan } from './plan.js';
export { curvesChart, readRunCurves, type RunCurves } from './pretrain/curves.js';
export {
  degradationExperiment,
  type DegradationOptions,
  type DegradationResult,
} from './pretrain/degradation.js';
export {
  evaluateModel,
  type EvaluateModelOptions,
  type EvaluateModelResult,
} from './pretrain/evaluate-model.js';
export { type EvalResult, evaluateClassifier } from './pretrain/evaluate.js';
export { pretrainConfig, ResNetClassifier } from './pretrain/model.js';
export type { ClassifierNet } from './pretrain/net.js';
export { buildSchedule, CIFAR_RECIPE, IMAGENET_RECIPE, type Recipe, RECIPES } from './pretrain/recipes.js';
export {
  IMAGENET_NORM,
  pretrain,
  type PretrainOptions,
  type PretrainResult,
  type RunSettings,
} from './pretrain/run.js';
export { type BuildOptions, buildResNet, type FeatureName, ResNet } from './resnet.js';
