import { type Command, Option } from 'commander';
import { loadClassifierModel } from '../../backbone/classifier.js';
import { fromFloat32, type SafeTensor, writeSafetensors } from '../../core/safetensors.js';
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
      // Loading through the model checks that every tensor is present and shaped as the arch needs.
      const { model, config } = loadClassifierModel(opts.model);
      try {
        const state = await model.stateDict();
        const out: Record<string, SafeTensor> = {};
        for (const [name, t] of Object.entries(state)) {
          out[name] = t.dtype === 'F32' ? fromFloat32(t.data as Float32Array, t.shape, opts.dtype) : t;
        }
        writeSafetensors(opts.out, out, { format: 'pt', source: 'resdet', arch: config.arch });
        const summary = {
          out: opts.out,
          arch: config.arch,
          tensors: Object.keys(out).length,
          dtype: opts.dtype,
        };
        if (opts.json) printJson(summary);
        else console.log(`wrote ${summary.tensors} tensors (${opts.dtype}) of ${config.arch} to ${opts.out}`);
      } finally {
        model.dispose();
      }
    });
}
