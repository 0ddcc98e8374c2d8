import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Command, Option } from 'commander';
import { parseClassNames } from '../../backbone/classifier.js';
import type { StridePlacement } from '../../backbone/config.js';
import { CONFIG_FILE } from '../../core/checkpoint.js';
import { UsageError } from '../../core/errors.js';
import { readSafetensors } from '../../core/safetensors.js';
import { saveDetector } from '../../detection/app/checkpoint.js';
import { importDetectron2 } from '../../detection/app/detectron2.js';
import { importTorchvisionClassifier } from '../../backbone/import-torchvision.js';
import { importTorchvisionFpn } from '../../detection/app/import-torchvision.js';
import { FPN_ARCHS } from '../../detection/model/fpn-config.js';
import { parseIntOption, parseListOption, printJson, useBackend } from '../common.js';

interface ImportOptions {
  arch?: string;
  weights: string;
  out: string;
  classes?: string;
  stridePlacement: StridePlacement;
  layers?: number[];
  force?: boolean;
  json?: boolean;
  minSize?: number;
  maxSize?: number;
}

/** `import torchvision --arch fasterrcnn_resnet50_fpn(_v2)`: a detector checkpoint. */
async function importFpnCommand(opts: ImportOptions, arch: string, cmd: Command): Promise<void> {
  const file = readSafetensors(opts.weights);
  await useBackend(cmd);
  const imported = importTorchvisionFpn(file, arch, {
    transform: {
      ...(opts.minSize !== undefined && { minSize: opts.minSize }),
      ...(opts.maxSize !== undefined && { maxSize: opts.maxSize }),
    },
  });
  const { model } = imported;
  try {
    const t = model.config.transform;
    await saveDetector(opts.out, model, {
      classes: imported.classes,
      categoryIds: imported.categoryIds,
      labelLayout: 'background-first',
      preprocessing: { mean: t.mean, std: t.std, minSize: t.minSize, maxSize: t.maxSize },
      extra: {
        source: {
          format: 'torchvision',
          file: basename(opts.weights),
          dtypes: imported.dtypes,
          renamed: imported.renamed,
        },
      },
    });
    const summary = {
      arch,
      kind: 'detector',
      variant: model.config.variant,
      out: opts.out,
      tensors: imported.tensors,
      renamed: imported.renamed,
      dtypes: imported.dtypes,
      classes: model.numClasses,
      layers: model.config.backbone.layers,
      baseWidth: model.config.backbone.baseWidth,
      fpnChannels: model.config.fpnChannels,
    };
    if (opts.json) printJson(summary);
    else
      console.log(
        `imported ${summary.tensors} tensors (${imported.dtypes.join(', ')}${imported.renamed ? `, ${imported.renamed} under older names` : ''}) of ${arch} (${model.numClasses} classes + background, torchvision's label layout) into ${opts.out}`,
      );
  } finally {
    model.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('import')
    .description('import published weights into a resdet checkpoint')
    .argument(
      '<format>',
      'source format: torchvision (a state_dict saved as .safetensors) or detectron2 (a model-zoo .pkl)',
    )
    .option(
      '--arch <arch>',
      "architecture of the weights, e.g. resnet50, fasterrcnn_resnet50_fpn, fasterrcnn_resnet50_fpn_v2 (see `resdet models`, `resdet models --detectors`); detectron2: R50-C4 or R101-C4, default the file's",
    )
    .requiredOption(
      '--weights <file>',
      '.safetensors file with torchvision state_dict names (F32, F16 or BF16), or detectron2 model_final_*.pkl',
    )
    .requiredOption('--out <dir>', 'checkpoint directory to write')
    .option(
      '--classes <classes>',
      'class names: "imagenet", a count or a comma list (default: ImageNet names for 1000 outputs)',
    )
    .addOption(
      new Option(
        '--stride-placement <where>',
        'Bottleneck stride: v1.5 for torchvision, v1 for Caffe-converted weights',
      )
        .choices(['v1', 'v1.5'])
        .default('v1.5'),
    )
    .option(
      '--layers <list>',
      "blocks per stage when they differ from the arch's, e.g. 1,1,1,1",
      parseListOption('--layers'),
    )
    .option(
      '--min-size <n>',
      "detectors: shorter side after resizing (default 800; detectron2: the config's INPUT.MIN_SIZE_TEST)",
      parseIntOption('--min-size', 1),
    )
    .option(
      '--max-size <n>',
      "detectors: longer side at most (default 1333; detectron2: the config's INPUT.MAX_SIZE_TEST)",
      parseIntOption('--max-size', 1),
    )
    .option('--force', 'overwrite an existing checkpoint in --out')
    .option('--json', 'machine-readable summary')
    .action(async (format: string, opts: ImportOptions, cmd: Command) => {
      if (format !== 'torchvision' && format !== 'detectron2') {
        throw new UsageError(`import: unknown format "${format}"`, 'supported: torchvision, detectron2');
      }
      if (!opts.force && existsSync(join(opts.out, CONFIG_FILE))) {
        throw new UsageError(
          `${opts.out} already holds a checkpoint`,
          'choose another --out or pass --force',
        );
      }
      if (format === 'detectron2') return importDetectron2Command(opts, cmd);
      if (!opts.arch) throw new UsageError('import torchvision: --arch is required', 'e.g. --arch resnet50');
      const arch = opts.arch;
      if (arch in FPN_ARCHS) return importFpnCommand(opts, arch, cmd);
      await useBackend(cmd);
      const summary = await importTorchvisionClassifier({ ...opts, arch });
      if (opts.json) printJson(summary);
      else
        console.log(
          `imported ${summary.tensors} tensors (${summary.dtypes.join(', ')}) of ${arch} (${summary.classes} classes) into ${opts.out}`,
        );
    });
}

/** `import detectron2`: a model-zoo pickle -> a C4 detector checkpoint (detection/app/detectron2.ts). */
async function importDetectron2Command(opts: ImportOptions, cmd: Command): Promise<void> {
  await useBackend(cmd);
  const classes = opts.classes
    ? parseClassNames(opts.classes, () => {
        throw new UsageError(
          '--classes imagenet: a detectron2 detector has COCO classes',
          'give a count or comma-separated names',
        );
      })
    : undefined;
  const summary = await importDetectron2(opts.weights, opts.out, {
    arch: opts.arch,
    classes,
    minSize: opts.minSize,
    maxSize: opts.maxSize,
  });
  if (opts.json) printJson(summary);
  else
    console.log(
      `imported ${summary.tensors} tensors (${summary.dtypes.join(', ')}${summary.narrowedFloat64 ? `; ${summary.narrowedFloat64} float64 arrays narrowed to float32` : ''}) of detectron2 ${summary.arch} C4 (${summary.classes} classes${summary.categoryIds ? ', COCO names and ids' : ''}) into ${summary.out}${summary.ignored.length ? `; ignored ${summary.ignored.join(', ')}` : ''}`,
    );
}
