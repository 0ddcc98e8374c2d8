export * from './coco.js';
export * from './coco-params.js';
export * from './voc.js';
export {
  readImageSet,
  readVocGroundTruth,
  readVocResultFile,
  readVocResultFiles,
  readVocXml,
  vocDetectionsFromCocoJson,
  vocResultPath,
} from './voc-io.js';
export * from './plots.js';
