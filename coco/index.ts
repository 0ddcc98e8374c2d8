/**
 * resdet/coco: the COCO toolkit on its own, without TF.js or sharp (test/eval/coco-subpath.test.ts
 * checks that importing it loads neither). The COCO API (CocoDataset: index, getImgIds /
 * getCatIds / getAnnIds filters, loadRes; the streaming reader for 448 MB files), COCOeval for
 * bbox, segm and keypoints, the mask API as `mask` (pycocotools.mask's functions), diagnostics.
 *
 * @module resdet/coco
 */
export * from '../data/coco/index.js';
export * as mask from '../data/coco/mask.js';
export type { CocoRle, CocoUncompressedRle, CocoPolygon, CocoSegmentation, Rle } from '../data/coco/mask.js';
export * from '../data/coco/segmentation.js';
export * from '../data/coco/result-columns.js';
export * from '../detection/eval/coco.js';
export * from '../detection/eval/coco-params.js';
export {
  type CocoMatchResult,
  type CocoSimilarity,
  FP,
  IGNORED,
  matchStatus,
  TP,
} from '../detection/eval/coco-match.js';
export { cocoPlotSpec, writeCocoPlot } from '../detection/eval/plots.js';
export * from '../detection/eval/coco-diagnose.js';
export * from '../detection/eval/coco-diagnose-report.js';
