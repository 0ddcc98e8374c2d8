import type { Command } from 'commander';
import { Option } from 'commander';
import { type DegradationOptions, degradationExperiment } from '../../backbone/pretrain/degradation.js';
import { UsageError } from '../../core/errors.js';
import { abortOnSignals } from '../abort.js';
import { parseDataSpec } from '../../data/classification/spec.js';
import {
  applyWasmThreads,
  parseFloatOption,
  parseIntOption,
  parseThreadsOption,
  parseListOption,
  printJson,
  useBackend,
  WASM_THREADS_HELP,
} from '../common.js';

/** The options as commander parses them: DegradationOptions' names, --out optional. */
type DegradationFlags = Omit<DegradationOptions, 'out' | 'silent' | 'log' | 'signal'> & {
  out?: string;
  threads?: number;
  json?: boolean;
};

export function register(program: Command): void {
  const experiment = program.command('experiment').description("the paper's experiments as commands");
  experiment
    .command('degradation')
    .description(
      'train plain and residual nets of each depth alike and plot their training and test error (paper Fig. 1 and 6)',
    )
    .requiredOption('--data <spec>', 'fashion-mnist[:DIR] or cifar10:DIR')
    .option('--depths <list>', 'CIFAR-style depths 6n+2', parseListOption('--depths'), [20, 56])
    .option('--out <dir>', 'experiment directory (default runs/degradation-<dataset>)')
    .option(
      '--max-minutes <m>',
      'wall-time budget for the whole experiment, split over its runs',
      parseFloatOption('--max-minutes', { above: 0 }),
    )
    .option('--iterations <n>', 'iterations per run', parseIntOption('--iterations', 1))
    .option('--epochs <n>', 'epochs per run', parseIntOption('--epochs', 1))
    .option('--batch-size <n>', 'batch size (recipe: 128)', parseIntOption('--batch-size', 1))
    .option('--lr <lr>', 'base learning rate', parseFloatOption('--lr', { above: 0 }))
    .addOption(
      new Option('--schedule <kind>', 'learning-rate decay').choices(['steps', 'cosine', 'constant']),
    )
    .option('--subset <n>', 'train on N images', parseIntOption('--subset', 1))
    .option('--test-subset <n>', 'evaluate on N test images', parseIntOption('--test-subset', 1))
    .option('--width <w>', 'first-stage width (16 as the paper)', parseIntOption('--width', 1))
    .option('--seed <s>', 'seed', parseIntOption('--seed', 0))
    .option('--threads <n>', WASM_THREADS_HELP, parseThreadsOption)
    .option('--json', 'machine-readable output')
    .action(async (flags: DegradationFlags, cmd: Command) => {
      const { kind } = parseDataSpec(flags.data);
      if (kind !== 'fashion-mnist' && kind !== 'cifar10') {
        throw new UsageError(
          `--data: the degradation experiment runs on fashion-mnist or cifar10, not "${kind}"`,
        );
      }
      for (const d of flags.depths) {
        if (!Number.isInteger(d) || d < 8 || (d - 2) % 6 !== 0) {
          throw new UsageError(`--depths: ${d} is not a CIFAR-style depth 6n+2 (8, 14, 20, 32, 44, 56, 110)`);
        }
      }
      applyWasmThreads(flags.threads, 'long');
      await useBackend(cmd);
      const { json, out, threads: _threads, ...options } = flags;
      const abort = abortOnSignals();
      const r = await degradationExperiment({
        ...options,
        out: out ?? `runs/degradation-${kind}`,
        signal: abort.signal,
        silent: json,
      }).finally(() => abort.dispose());
      const code = abort.exitCode();
      if (code !== undefined) process.exitCode = code;
      if (json) {
        printJson(r);
        return;
      }
      const pct = (v: number | null) => (v === null ? '   -  ' : `${(100 * v).toFixed(2).padStart(6)}%`);
      console.log('arch        iterations  train err   test err');
      for (const run of r.runs) {
        console.log(
          `${run.arch.padEnd(12)}${String(run.iteration).padStart(10)}  ${pct(run.trainError)}  ${pct(run.testError)}`,
        );
      }
      console.log(`curves: ${r.plot}`);
    });
}
