export * from './boxes.js';
export * from './nms.js';
export * from './box-coder.js';
export * from './anchors.js';
export * from './roi-pool.js';
export * from './roi-align.js';
export * from './model/config.js';
export * from './model/faster-rcnn.js';
export type { RawDetections } from './model/roi-heads.js';
export * from './preprocess.js';
export * from './checkpoint.js';
export * from './detector.js';
export * from './evaluate.js';
export * from './eval-set.js';
export * from './draw.js';
export * from './demo.js';
export * from './init.js';
export * from './train/train-detector.js';
export * from './train/defaults.js';
export type { TrainResult } from './train/trainer.js';
export * from './eval/index.js';
export * from './model/fpn-config.js';
export { FpnFasterRCNN, type RcnnLosses } from './model/generalized-rcnn.js';
export { buildDetector, type TwoStageDetector } from './model/two-stage.js';
export {
  importTorchvisionFpn,
  currentTorchvisionName,
  type ImportedFpnDetector,
} from './import-torchvision.js';
export { fineTuneDetector, type FineTuneOptions } from './train/fine-tune.js';
export { DETECTOR_CATALOG, BUILDABLE_DETECTORS, type DetectorCatalogEntry } from './catalog.js';
export * from './detectron2.js';
