/**
 * Detection datasets (VOC, COCO, specs, in memory), the image pipeline and loader, classification
 * sets, synthetic sets, downloads and the generic worker pool (the COCO API is `resdet/coco`).
 *
 * @module resdet/data
 */
export { channelStats, type Normalisation } from './classification/augment.js';
export { CIFAR10_CLASSES, loadCifar10 } from './classification/cifar10.js';
export {
  DEFAULT_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
} from './classification/fashion-mnist.js';
export type { EvalTransform } from './classification/file-augment.js';
export { loadFolderDataset } from './classification/folder.js';
export { loadImagenet } from './classification/imagenet.js';
export {
  type DatasetKind,
  type DataSpec,
  loadClassificationData,
  parseDataSpec,
} from './classification/spec.js';
export {
  type ClassificationData,
  type ClassificationSet,
  type FileSet,
  type MemorySet,
  selectExamples,
  setLength,
} from './classification/types.js';
export { ArrayDetectionDataset, buildDataset, type RawImage, type RawObject } from './detection/build.js';
export { CLASSES_FILE, readClassesFile, VOC_CLASSES } from './detection/classes.js';
export { COCO_CATEGORIES } from './detection/coco-categories.js';
export type { CocoInstances } from './detection/coco-source.js';
export {
  cocoLabelMap,
  type CocoLabelMap,
  type CocoOpenOptions,
  defaultCocoImageDir,
  openCoco,
} from './detection/coco.js';
export { type ConvertSummary, convertToCoco, convertToVoc } from './detection/convert.js';
export {
  DetectionLoader,
  type DetectionLoaderOptions,
  type LoadedBatch,
  type PlannedImage,
} from './detection/loader.js';
export { formatProblem } from './detection/problems.js';
export {
  concatDatasets,
  type DatasetInput,
  type DatasetSpec,
  type DatasetSpecPart,
  formatDatasetSource,
  openDataset,
  openDatasetInput,
  type OpenDatasetOptions,
  parseDatasetSpec,
} from './detection/spec.js';
export { type ClassStats, datasetStats, type DatasetStats, formatStats } from './detection/stats.js';
export {
  boxesToOriginal,
  DETECTION_PREPROCESSING,
  type DetectionBatch,
  flipBoxes,
  type PreparedImage,
  type PrepareOptions,
  resizedSize,
  scaleBoxes,
} from './detection/transform.js';
export {
  type DataProblem,
  type DetectionDataset,
  type DetectionSample,
  type OpenOptions,
  type ProblemKind,
  type SkippedCounts,
  targetsOf,
} from './detection/types.js';
export {
  openVoc,
  resolveVocClasses,
  VOC_DEFAULT_SPLIT,
  vocImageId,
  type VocOpenOptions,
  vocSplits,
} from './detection/voc.js';
export { cocoInstances, type WritableSample, writeCocoJson, writeVocAnnotation } from './detection/write.js';
export {
  type DatasetDownloadResult,
  downloadDataset,
  type DownloadOptions,
  type DownloadResult,
} from './download.js';
export { decodeImage, type DecodeOptions, type RgbImage } from './image/decode.js';
export { FASHION_CLASSES } from './synth/fashion.js';
export { SHAPE_CLASSES } from './synth/shapes.js';
export {
  SYNTH_DEFAULT_SIZE,
  type SynthKind,
  type SynthOptions,
  type SynthSummary,
  writeSynthSet,
} from './synth/write-set.js';
export { type PoolOptions, type PoolResult, WorkerPool } from './workers/pool.js';
export type { TaskFn, TaskModule, TaskOutput } from './workers/protocol.js';
export { parseImageSet, readImageSet } from './formats/image-set.js';
export {
  type CocoResultRecord,
  cocoResultRecord,
  type DevkitBox,
  devkitBox,
  devkitDetectionLine,
  devkitLine,
  devkitResultFileName,
  type ResultDetection,
} from './formats/results.js';
export {
  parseVocXml,
  readVocXmlFile,
  type VocParseMode,
  type VocXmlAnnotation,
  type VocXmlBox,
  type VocXmlObject,
} from './formats/voc-xml.js';
