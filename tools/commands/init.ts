import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { parseClassNames, saveClassifier } from '../../backbone/classifier.js';
import { resnetConfig, type ShortcutOption, type StridePlacement } from '../../backbone/config.js';
import { imagenetClasses } from '../../backbone/imagenet.js';
import { buildResNet } from '../../backbone/resnet.js';
import { CONFIG_FILE } from '../../core/checkpoint.js';
import { UsageError } from '../../core/errors.js';
import { parseIntOption, printJson, useBackend } from '../common.js';
import { initDetectorCommand } from './init-detector.js';

interface InitOptions {
  kind: 'classifier' | 'detector';
  arch: string;
  classes: string;
  out: string;
  seed: number;
  baseWidth?: number;
  shortcut?: ShortcutOption;
  stridePlacement?: StridePlacement;
  zeroInitResidual?: boolean;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('create a randomly initialised (He init) model checkpoint')
    .addOption(
      new Option('--kind <kind>', 'what to create').choices(['classifier', 'detector']).default('classifier'),
    )
    .requiredOption('--arch <arch>', 'architecture (see `resdet models`), e.g. resnet18, resnet20')
    .requiredOption('--classes <classes>', 'number of classes, "imagenet", or comma-separated class names')
    .requiredOption('--out <dir>', 'checkpoint directory to write')
    .option('--seed <n>', 'initialisation seed', parseIntOption('--seed', 0), 0)
    .option(
      '--base-width <n>',
      'channels of the stem and first stage (default 64, CIFAR 16)',
      parseIntOption('--base-width', 1),
    )
    .addOption(new Option('--shortcut <option>', 'shortcut option (paper §3.3)').choices(['A', 'B', 'C']))
    .addOption(
      new Option('--stride-placement <where>', 'Bottleneck stride on the 1x1 (v1) or the 3x3 (v1.5)').choices(
        ['v1', 'v1.5'],
      ),
    )
    .option('--zero-init-residual', "start each residual branch's last BN scale at zero")
    .option('--force', 'overwrite an existing checkpoint in --out')
    .option('--json', 'print the written config.json')
    .action(async (opts: InitOptions, cmd: Command) => {
      if (!opts.force && existsSync(join(opts.out, CONFIG_FILE))) {
        throw new UsageError(
          `${opts.out} already holds a checkpoint`,
          'choose another --out or pass --force',
        );
      }
      if (opts.kind === 'detector') {
        await initDetectorCommand(opts, cmd);
        return;
      }
      const classes = parseClassNames(opts.classes, imagenetClasses);
      const config = resnetConfig(opts.arch, {
        numClasses: classes.length,
        seed: opts.seed,
        ...(opts.baseWidth !== undefined && { baseWidth: opts.baseWidth }),
        ...(opts.shortcut !== undefined && { shortcut: opts.shortcut }),
        ...(opts.stridePlacement !== undefined && { stridePlacement: opts.stridePlacement }),
        ...(opts.zeroInitResidual && { zeroInitResidual: true }),
      });
      await useBackend(cmd);
      const model = buildResNet(config);
      try {
        const written = await saveClassifier(opts.out, model, { arch: opts.arch, classes });
        if (opts.json) printJson(written);
        else {
          const { params } = model.cost();
          console.log(
            `wrote ${opts.arch} classifier (${classes.length} classes, ${params} parameters) to ${opts.out}`,
          );
        }
      } finally {
        model.dispose();
      }
    });
}
