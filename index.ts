/**
 * The main entry points, each also exported by its subpath (`resdet/core`, `/backbone`, `/data`,
 * `/detection`, `/coco`, `/server`), where the rest of each part's public surface lives.
 *
 * @module resdet
 */
export {
  type BackendChoice,
  type BackendName,
  currentBackend,
  type InitBackendOptions,
  initBackend,
  ResdetError,
  UsageError,
} from './core/index.js';
export {
  buildResNet,
  type Classifier,
  loadClassifier,
  type PretrainOptions,
  type PretrainResult,
  pretrain,
  RESNET_ARCHS,
  type ResNet,
  resnetConfig,
} from './backbone/index.js';
export {
  buildDataset,
  type ClassificationData,
  type DatasetInput,
  type DetectionDataset,
  DetectionLoader,
  decodeImage,
  loadClassificationData,
  openDataset,
  type RgbImage,
  writeSynthSet,
} from './data/index.js';
export {
  type Detection,
  type Detector,
  detectDataset,
  detectorConfig,
  evaluateDetections,
  evaluateDetector,
  evaluateVoc,
  FasterRCNN,
  loadDetector,
  runDemo,
  type TrainDetectorOptions,
  type TrainDetectorResult,
  trainDetector,
  writeResultFiles,
} from './detection/index.js';
export { evaluateCoco, formatCocoSummary, loadCocoDataset } from './coco/index.js';
export { createApp, loadModels, startServer } from './server/index.js';
