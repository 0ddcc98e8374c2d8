import { ResdetError } from '../../core/errors.js';
import { type DetectorConfig, validateDetectorConfig } from './config.js';
import { FasterRCNN } from './faster-rcnn.js';
import { type FpnDetectorConfig, isFpnConfig } from './fpn-config.js';
import { FpnFasterRCNN } from './generalized-rcnn.js';

/** The two detector assemblies: the paper's C4 Faster R-CNN and torchvision's R50-FPN. */
export type TwoStageDetector = FasterRCNN | FpnFasterRCNN;

/** Builds the detector a checkpoint's `model` config describes (FPN configs say `kind: "fpn"`). */
export function buildDetector(
  config: DetectorConfig | FpnDetectorConfig,
  where = 'config',
): TwoStageDetector {
  if (!config || typeof config !== 'object' || !('backbone' in config))
    throw new ResdetError(`${where}: the "model" field does not describe a detector`);
  if (isFpnConfig(config)) return new FpnFasterRCNN(config);
  validateDetectorConfig(config);
  return new FasterRCNN(config);
}

/** Padded input sides are multiples of this. */
export function sizeDivisibleOf(model: TwoStageDetector): number {
  return model instanceof FpnFasterRCNN ? model.config.transform.sizeDivisible : model.config.sizeDivisible;
}
