import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../core/errors.js';
import { abortOnSignals } from '../abort.js';
import { type PretrainOptions, pretrain } from '../../backbone/pretrain/run.js';
import { pretrainStopName } from '../../backbone/pretrain/trainer.js';
import {
  parseFloatOption,
  parseIntOption,
  parseThreadsOption,
  printJson,
  useBackend,
  applyWasmThreads,
  WASM_THREADS_HELP,
} from '../common.js';

/** The library's options under their flag names, plus what only the command line has. */
type PretrainFlags = Omit<PretrainOptions, 'warmupIterations' | 'silent' | 'log' | 'signal'> & {
  warmup?: number;
  json?: boolean;
  threads?: number;
};

export function register(program: Command): void {
  program
    .command('pretrain')
    .description(
      "train a ResNet classifier with the paper's recipe (ImageNet §3.4 or CIFAR §4.2); checkpoints every epoch and on Ctrl-C, --resume continues",
    )
    .option('--data <spec>', 'imagenet:ROOT | folder:ROOT | cifar10:DIR | fashion-mnist[:DIR]')
    .option(
      '--arch <name>',
      'resnet20/32/44/56/110/1202, plain20.., resnet18..152, plain18/34, or any resnet(6n+2)',
    )
    .requiredOption('--out <dir>', 'run directory: checkpoint, metrics.jsonl')
    .addOption(
      new Option('--recipe <name>', "training recipe (default: by the net's stem)").choices([
        'imagenet',
        'cifar',
      ]),
    )
    .option('--epochs <n>', 'train for N epochs', parseIntOption('--epochs', 1))
    .option(
      '--iterations <n>',
      'train for N iterations (CIFAR recipe default: 64000)',
      parseIntOption('--iterations', 1),
    )
    .option(
      '--batch-size <n>',
      'images per optimizer step (recipe: 128 CIFAR, 256 ImageNet)',
      parseIntOption('--batch-size', 1),
    )
    .option(
      '--micro-batch <n>',
      'images per forward/backward pass; smaller than the batch accumulates gradients',
      parseIntOption('--micro-batch', 1),
    )
    .option(
      '--lr <lr>',
      'base learning rate (recipe 0.1; scaled linearly when --batch-size changes)',
      parseFloatOption('--lr', { above: 0 }),
    )
    .addOption(
      new Option(
        '--schedule <kind>',
        'learning-rate decay (recipe: steps for CIFAR, plateau for ImageNet)',
      ).choices(['steps', 'cosine', 'plateau', 'constant']),
    )
    .option(
      '--warmup <iterations>',
      'linear warm-up from 0.1x over this many iterations',
      parseIntOption('--warmup', 0),
    )
    .option('--resume', 'continue the run in --out (schedule, optimizer state, data order)')
    .option(
      '--max-minutes <m>',
      'stop (with a checkpoint) after this much wall time',
      parseFloatOption('--max-minutes', { above: 0 }),
    )
    .option(
      '--fit-to-time',
      'with --max-minutes: shorten the run and its lr schedule (steps, cosine) to what fits in the time',
    )
    .option('--subset <n>', 'train on a random subset of N training images', parseIntOption('--subset', 1))
    .option(
      '--val-split <n>',
      'hold out N training images for validation (CIFAR recipe on CIFAR-10: 5000)',
      parseIntOption('--val-split', 0),
    )
    .option(
      '--test-subset <n>',
      'evaluate on N test images per epoch instead of all',
      parseIntOption('--test-subset', 1),
    )
    .option('--seed <s>', 'seed for initialisation, data order and augmentation', parseIntOption('--seed', 0))
    .option(
      '--width <w>',
      "override the first stage's width (16 for CIFAR nets)",
      parseIntOption('--width', 1),
    )
    .addOption(
      new Option('--augment <kind>', "paper: the recipe's augmentation; none: off (very short runs)")
        .choices(['paper', 'none'])
        .default('paper'),
    )
    .option(
      '--checkpoint-every <n>',
      'also checkpoint every N iterations',
      parseIntOption('--checkpoint-every', 1),
    )
    .option(
      '--workers <n>',
      'worker threads decoding and augmenting batches ahead of the model (default 1; 0: none)',
      parseIntOption('--workers', 0),
    )
    .option('--json', 'print the result as JSON')
    .option('--threads <n>', WASM_THREADS_HELP, parseThreadsOption)
    .action(async (flags: PretrainFlags, cmd: Command) => {
      if (flags.epochs !== undefined && flags.iterations !== undefined) {
        throw new UsageError('give --epochs or --iterations, not both');
      }
      if (flags.maxMinutes !== undefined && flags.maxMinutes <= 0)
        throw new UsageError('--max-minutes must be > 0');
      applyWasmThreads(flags.threads, 'long');
      const backend = await useBackend(cmd);
      const { warmup, json, threads: _threads, ...options } = flags;
      if (flags.fitToTime && flags.maxMinutes === undefined)
        throw new UsageError('--fit-to-time needs --max-minutes');
      const abort = abortOnSignals();
      const result = await pretrain({
        ...options,
        warmupIterations: warmup,
        silent: json,
        signal: abort.signal,
      }).finally(() => abort.dispose());
      const stopped = pretrainStopName(result);
      const summary = {
        out: result.outDir,
        backend,
        stopped,
        iteration: result.state.iteration,
        totalIterations: result.settings.totalIterations,
        epoch: result.state.epoch,
        trainSeconds: Math.round(result.state.trainSeconds),
        valTop1Error: result.lastEval?.val?.top1Error ?? null,
        testTop1Error: result.lastEval?.test?.top1Error ?? null,
        testTop5Error: result.lastEval?.test?.top5Error ?? null,
      };
      if (flags.json) printJson(summary);
      else {
        const err = summary.testTop1Error;
        console.log(
          `${stopped === 'done' ? 'finished' : `stopped (${stopped})`} at iteration ${summary.iteration}/${summary.totalIterations}` +
            (err !== null ? `, test top-1 error ${(100 * err).toFixed(2)}%` : '') +
            `; checkpoint in ${summary.out}` +
            (result.stopped === 'done' ? '' : ' (continue with --resume)'),
        );
      }
      const code = abort.exitCode();
      if (code !== undefined) process.exitCode = code;
    });
}
