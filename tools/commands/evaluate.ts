import type { Command } from 'commander';
import { Option } from 'commander';
import { evaluateModel } from '../../backbone/pretrain/evaluate-model.js';
import { Progress } from '../../core/progress.js';
import { parseIntOption, printJson, useBackend } from '../common.js';

interface EvaluateFlags {
  model: string;
  data?: string;
  tenCrop?: boolean;
  batchSize?: number;
  limit?: number;
  split?: 'test' | 'train';
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      "top-1 and top-5 error of a pretrained classifier (optionally with the paper's 10-crop testing)",
    )
    .requiredOption('--model <dir>', 'checkpoint directory written by `resdet pretrain`')
    .option('--data <spec>', 'dataset (default: the one the model was trained on)')
    .option('--ten-crop', 'average the softmax of 10 crops (4 corners + centre, and mirrors)')
    .option('--batch-size <n>', 'images per forward pass', parseIntOption('--batch-size', 1))
    .option('--limit <n>', 'evaluate only the first N images', parseIntOption('--limit', 1))
    .addOption(new Option('--split <name>', 'which split').choices(['test', 'train']).default('test'))
    .option('--json', 'machine-readable output')
    .action(async (flags: EvaluateFlags, cmd: Command) => {
      const backend = await useBackend(cmd);
      let bar: Progress | undefined;
      let lastDone = 0;
      const r = await evaluateModel({
        model: flags.model,
        data: flags.data,
        tenCrop: flags.tenCrop,
        batchSize: flags.batchSize,
        limit: flags.limit,
        split: flags.split,
        onBatch: (done, total) => {
          bar ??= new Progress({ total, label: 'evaluate', unit: 'img', silent: flags.json });
          bar.tick(done - lastDone);
          lastDone = done;
        },
      });
      bar?.finish();
      if (flags.json) {
        printJson({ ...r, backend });
        return;
      }
      console.log(
        `${r.arch} on ${r.data} (${r.split}, ${r.images} images${r.tenCrop ? ', 10-crop' : ''}): ` +
          `top-1 error ${(100 * r.top1Error).toFixed(2)}%, top-5 error ${(100 * r.top5Error).toFixed(2)}%`,
      );
    });
}
