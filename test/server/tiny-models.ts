/**
 * Real, tiny, randomly initialised checkpoints for end-to-end server tests: a 3-class ResNet-18
 * at base width 8 as detector (min side 64) and a 10-class ResNet-20 (CIFAR) as classifier.
 */
import { saveClassifier } from '../../backbone/classifier.js';
import { resnetConfig } from '../../backbone/config.js';
import { buildResNet } from '../../backbone/resnet.js';
import { saveDetector } from '../../detection/app/checkpoint.js';
import { detectorConfig } from '../../detection/model/config.js';
import { FasterRCNN } from '../../detection/model/faster-rcnn.js';

export const TINY_DETECTOR_CLASSES = ['cat', 'dog', 'car'];

export async function writeTinyDetector(
  dir: string,
  opts: { minSize?: number; maxSize?: number; baseWidth?: number; classes?: string[] } = {},
): Promise<void> {
  const classes = opts.classes ?? TINY_DETECTOR_CLASSES;
  const config = detectorConfig({
    arch: 'resnet18',
    numClasses: classes.length,
    baseWidth: opts.baseWidth ?? 8,
    anchorSizes: [16, 32, 64],
    rpn: { preNmsTopNTest: 300, postNmsTopNTest: 50 },
    // A random model scores every class near 1/(C+1): keep everything so there are boxes to see.
    roiHeads: { scoreThreshold: 0, detectionsPerImage: 20 },
    seed: 3,
  });
  const model = new FasterRCNN(config);
  try {
    await saveDetector(dir, model, {
      classes,
      categoryIds: opts.classes ? undefined : [17, 18, 3],
      preprocessing: {
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        minSize: opts.minSize ?? 64,
        maxSize: opts.maxSize ?? 96,
      },
    });
  } finally {
    model.dispose();
  }
}

export async function writeTinyClassifier(dir: string): Promise<void> {
  const classes = Array.from({ length: 10 }, (_, i) => `class${i}`);
  const model = buildResNet(resnetConfig('resnet20', { numClasses: classes.length, seed: 5 }));
  try {
    await saveClassifier(dir, model, { arch: 'resnet20', classes });
  } finally {
    model.dispose();
  }
}
