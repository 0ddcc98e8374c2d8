/**
 * Faster R-CNN: box ops, the model and its config, checkpoints, `loadDetector`, training,
 * detecting and evaluating over a set (VOC and COCO mAP), drawing, the demo.
 *
 * @module resdet/detection
 */
export {
  type AnchorOptions,
  type AnchorOptionsSnake,
  type Anchors,
  DEFAULT_ANCHOR_SIZES,
  DEFAULT_ASPECT_RATIOS,
  generateAnchors,
  type LevelValues,
} from './ops/anchors.js';
export {
  BBOX_XFORM_CLIP,
  type BoxWeights,
  decodeBoxes,
  encodeBoxes,
  HEAD_BOX_WEIGHTS,
  RPN_BOX_WEIGHTS,
} from './ops/box-coder.js';
export { boxAreas, type BoxesLike, boxIou } from './ops/boxes.js';
export {
  type DetectorMeta,
  loadDetectorCheckpoint,
  type LoadedDetectorCheckpoint,
  saveDetector,
} from './app/checkpoint.js';
export { type DemoOptions, type DemoSummary, runDemo } from './demo.js';
export {
  type Detection,
  type DetectOptions,
  type Detector,
  loadDetector,
  makeDetector,
} from './app/detector.js';
export {
  DETECTRON2_C4_ZOO,
  type Detectron2ImportOptions,
  type Detectron2ImportSummary,
  importDetectron2,
} from './app/detectron2.js';
export { drawDetections } from './app/draw.js';
export { assertDetectorClasses, type EvaluationSet, openEvaluationSet } from './app/eval-set.js';
export { vocPlotSpec, writeVocPlot } from './eval/plots.js';
export {
  readVocGroundTruth,
  readVocResultFile,
  readVocResultFiles,
  readVocXml,
  vocDetectionsFromCocoJson,
  vocResultPath,
} from './eval/voc-io.js';
export {
  evaluateVoc,
  vocAp,
  type VocBox,
  type VocClassResult,
  type VocDetection,
  type VocEvalOptions,
  type VocImage,
  type VocMetric,
  type VocObject,
  type VocSummary,
} from './eval/voc.js';
export {
  type DetectorEvaluationRun,
  type DetectorReport,
  evaluateDetector,
  type EvaluateDetectorOptions,
} from './app/evaluate-detector.js';
export {
  type CocoAnnotationsSource,
  cocoGroundTruth,
  cocoResults,
  detectDataset,
  type DetectorEvaluation,
  type DetectorMetric,
  evaluateDetections,
  type ImageDetections,
  vocDetections,
  vocGroundTruth,
  writeResultFiles,
} from './app/evaluate.js';
export { initDetector, type InitDetectorOptions } from './app/init.js';
export {
  type AnchorGeneratorConfig,
  DEFAULT_ROI_HEADS,
  DEFAULT_RPN,
  detectorConfig,
  type DetectorConfig,
  type DetectorConfigInput,
  type RoiHeadsConfig,
  type RpnConfig,
} from './model/config.js';
export { FasterRCNN, type ImageBatch, type ImageTargets, type LossValues } from './model/faster-rcnn.js';
export { batchedNms, nms } from './ops/nms.js';
export { prepareImage, type RgbInput } from './app/preprocess.js';
export { roiAlign, type RoiAlignOptions } from './ops/roi-align.js';
export { type OutputSize, type RoiOpOptionsSnake, roiPool, type RoiPoolOptions } from './ops/roi-pool.js';
export {
  DEFAULT_DETECTOR_ITERATIONS,
  type DetectorPreset,
  trainDetector,
  type TrainDetectorOptions,
  type TrainDetectorResult,
} from './train/train-detector.js';
export type { TrainResult } from './train/trainer.js';
export { evaluateVocFiles, type VocFilesOptions, type VocFilesResult } from './eval/voc-files.js';
export * from './model/fpn-config.js';
export { FpnFasterRCNN, type RcnnLosses } from './model/generalized-rcnn.js';
export { buildDetector, type TwoStageDetector } from './model/two-stage.js';
export {
  importTorchvisionFpn,
  currentTorchvisionName,
  type ImportedFpnDetector,
} from './app/import-torchvision.js';
export { fineTuneDetector, type FineTuneOptions } from './train/fine-tune.js';
export { DETECTOR_CATALOG, BUILDABLE_DETECTORS, type DetectorCatalogEntry } from './app/catalog.js';
export { alignToDataset } from './app/evaluate.js';
export {
  DETECTOR_TRAINING_DEFAULTS,
  type DetectorEvalDefaults,
  type DetectorInputDefaults,
  type DetectorSolverDefaults,
  type DetectorTrainingDefaults,
} from './train/defaults.js';
