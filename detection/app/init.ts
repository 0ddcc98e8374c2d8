import type { CheckpointConfig } from '../../core/checkpoint.js';
import { DETECTION_MAX_SIZE, DETECTION_MIN_SIZE } from '../../data/detection/transform.js';
import { saveDetector } from './checkpoint.js';
import { type DetectorConfigInput, detectorConfig } from '../model/config.js';
import { FasterRCNN } from '../model/faster-rcnn.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './preprocess.js';

export interface InitDetectorOptions extends Omit<DetectorConfigInput, 'numClasses'> {
  classes: string[];
  out: string;
  minSize?: number;
  maxSize?: number;
}

/** Architecture names may carry a width: "resnet18-w16" is ResNet-18 with 16 channels in its first stage. */
export function parseBackboneArch(name: string): { arch: string; baseWidth?: number } {
  const m = /^(.+)-w(\d+)$/.exec(name);
  return m ? { arch: m[1], baseWidth: Number(m[2]) } : { arch: name };
}

/**
 * Writes a randomly initialised detector checkpoint (He-initialised backbone, heads as torchvision
 * and detectron2 initialise them): for tests, serving checks and as a training starting point.
 */
export async function initDetector(
  opts: InitDetectorOptions,
): Promise<{ config: CheckpointConfig; parameters: number }> {
  const { arch, baseWidth } = parseBackboneArch(opts.arch);
  const config = detectorConfig({
    ...opts,
    arch,
    baseWidth: opts.baseWidth ?? baseWidth,
    numClasses: opts.classes.length,
    frozenBn: opts.frozenBn ?? false,
    freezeAt: opts.freezeAt ?? 0,
  });
  const model = new FasterRCNN(config);
  try {
    const written = await saveDetector(opts.out, model, {
      classes: opts.classes,
      preprocessing: {
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
        minSize: opts.minSize ?? DETECTION_MIN_SIZE,
        maxSize: opts.maxSize ?? DETECTION_MAX_SIZE,
      },
      extra: { initialisedBy: 'resdet init' },
    });
    const parameters = Object.entries(await model.stateDict())
      .filter(([name]) => !/running_|num_batches_tracked/.test(name))
      .reduce((a, [, t]) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    return { config: written, parameters };
  } finally {
    model.dispose();
  }
}
