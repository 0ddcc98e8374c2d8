import { type Command, Option } from 'commander';
import { exportClassifier } from '../../backbone/export.js';
import { printJson, useBackend } from '../common.js';

interface ExportOptions {
  model: string;
  format: 'torchvision';
  out: string;
  dtype: 'F32' | 'F16' | 'BF16';
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description("export a classifier's weights as a torchvision state_dict in .safetensors")
    .requiredOption('--model <dir>', 'classifier checkpoint directory')
    .addOption(
      new Option('--format <format>', 'target format').choices(['torchvision']).makeOptionMandatory(),
    )
    .requiredOption('--out <file>', '.safetensors file to write')
    .addOption(
      new Option('--dtype <dtype>', 'float dtype of the written tensors')
        .choices(['F32', 'F16', 'BF16'])
        .default('F32'),
    )
    .option('--json', 'machine-readable summary')
    .action(async (opts: ExportOptions, cmd: Command) => {
      await useBackend(cmd);
      const summary = await exportClassifier({
        model: opts.model,
        out: opts.out,
        format: opts.format,
        dtype: opts.dtype,
      });
      if (opts.json) printJson(summary);
      else
        console.log(
          `wrote ${summary.tensors} tensors (${summary.dtype}) of ${summary.arch} to ${summary.out}`,
        );
    });
}
