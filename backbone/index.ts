/**
 * ResNet backbones and classifiers: configs, building, torchvision-named weights, classifying,
 * pretraining and evaluating.
 *
 * @module resdet/backbone
 */
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
export type { LoadStateDictOptions, LoadStateDictResult } from './params.js';
export {
  type BlockSpec,
  type ConvSpec,
  countResNet,
  planResNet,
  type ResNetCost,
  type ResNetPlan,
  type ShortcutSpec,
  type StageSpec,
} from './plan.js';
export { curvesChart, readRunCurves, type RunCurves } from './pretrain/curves.js';
export {
  degradationExperiment,
  type DegradationOptions,
  type DegradationResult,
  type DegradationRun,
} from './pretrain/degradation.js';
export {
  evaluateModel,
  type EvaluateModelOptions,
  type EvaluateModelResult,
} from './pretrain/evaluate-model.js';
export { pretrainConfig, ResNetClassifier } from './pretrain/model.js';
export type { ClassifierNet } from './pretrain/net.js';
export type { ScheduleKind } from './pretrain/recipes.js';
export {
  IMAGENET_NORM,
  pretrain,
  type PretrainOptions,
  type PretrainResult,
  type RunSettings,
} from './pretrain/run.js';
export type { RunState } from './pretrain/state.js';
export { type BuildOptions, buildResNet, type FeatureName, ResNet } from './resnet.js';
export type { EvalResult } from './pretrain/evaluate.js';
export { type ExportClassifierOptions, type ExportClassifierSummary, exportClassifier } from './export.js';
export {
  type ImportTorchvisionOptions,
  type ImportTorchvisionSummary,
  importTorchvisionClassifier,
} from './import-torchvision.js';
