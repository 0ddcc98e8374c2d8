import { basename } from 'node:path';
import { ResdetError, UsageError } from '../core/errors.js';
import { readSafetensors } from '../core/safetensors.js';
import { parseClassNames, saveClassifier } from './classifier.js';
import { resnetConfig, type StridePlacement } from './config.js';
import { imagenetClasses } from './imagenet.js';
import { buildResNet } from './resnet.js';

export interface ImportTorchvisionOptions {
  /** A torchvision ResNet classifier's state_dict as .safetensors (F32, F16 or BF16). */
  weights: string;
  /** Its architecture, e.g. resnet50. */
  arch: string;
  /** Checkpoint directory to write. */
  out: string;
  /** "imagenet", a count or a comma list (default: ImageNet names for 1000 outputs, else 0..n-1). */
  classes?: string;
  /** Bottleneck stride: v1.5 for torchvision (default), v1 for Caffe-converted weights. */
  stridePlacement?: StridePlacement;
  /** Blocks per stage when they differ from the arch's. */
  layers?: number[];
}

export interface ImportTorchvisionSummary {
  arch: string;
  out: string;
  tensors: number;
  dtypes: string[];
  classes: number;
  params: number;
}

/**
 * `resdet import torchvision` for classifiers: a torchvision ResNet state_dict into a classifier
 * checkpoint. Output classes, stem width and input channels come from the file; every other
 * tensor is checked by name and shape. Needs an initialised backend (initBackend).
 */
export async function importTorchvisionClassifier(
  opts: ImportTorchvisionOptions,
): Promise<ImportTorchvisionSummary> {
  const arch = opts.arch;
  const file = readSafetensors(opts.weights);
  if (!file.has('fc.weight') || !file.has('conv1.weight')) {
    throw new ResdetError(
      `${opts.weights}: no ${file.has('conv1.weight') ? 'fc.weight' : 'conv1.weight'} tensor: not a torchvision ResNet classifier state_dict`,
      'save `model.state_dict()` of a torchvision.models.resnet* model (see the README)',
    );
  }
  // Output classes, stem width and input channels come from the file, so reduced-width
  // or fine-tuned torchvision models import too; every other shape is checked by name.
  const numClasses = file.info('fc.weight').shape[0];
  const [baseWidth, inChannels] = file.info('conv1.weight').shape;
  const config = resnetConfig(arch, {
    numClasses,
    baseWidth,
    inChannels,
    stridePlacement: opts.stridePlacement ?? 'v1.5',
    ...(opts.layers && { layers: opts.layers }),
  });
  const classes = opts.classes
    ? parseClassNames(opts.classes, imagenetClasses)
    : numClasses === 1000
      ? imagenetClasses()
      : Array.from({ length: numClasses }, (_, i) => String(i));
  if (classes.length !== numClasses) {
    throw new UsageError(
      `--classes gives ${classes.length} names but ${opts.weights} has ${numClasses} outputs`,
    );
  }
  const model = buildResNet(config, { initialize: false });
  try {
    const result = model.loadStateDict(file);
    const dtypes = [...new Set(file.names().map((n) => file.info(n).dtype))].sort();
    await saveClassifier(opts.out, model, {
      arch,
      classes,
      extra: { source: { format: 'torchvision', file: basename(opts.weights), dtypes } },
    });
    return {
      arch,
      out: opts.out,
      tensors: result.loaded.length,
      dtypes,
      classes: numClasses,
      params: model.cost().params,
    };
  } finally {
    model.dispose();
  }
}
