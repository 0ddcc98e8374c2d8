import type { Command } from 'commander';
import { parseClassNames } from '../../backbone/classifier.js';
import { imagenetClasses } from '../../backbone/imagenet.js';
import { initDetector } from '../../detection/app/init.js';
import { printJson, useBackend } from '../common.js';

/** `resdet init --kind detector`: a randomly initialised Faster R-CNN checkpoint. */
export async function initDetectorCommand(
  opts: { arch: string; classes: string; out: string; seed: number; baseWidth?: number; json?: boolean },
  cmd: Command,
): Promise<void> {
  const classes = parseClassNames(opts.classes, imagenetClasses);
  await useBackend(cmd);
  const { config, parameters } = await initDetector({
    arch: opts.arch,
    classes,
    out: opts.out,
    seed: opts.seed,
    baseWidth: opts.baseWidth,
  });
  if (opts.json) printJson(config);
  else
    console.log(
      `wrote ${opts.arch} Faster R-CNN detector (${classes.length} classes, ${parameters} parameters) to ${opts.out}`,
    );
}
