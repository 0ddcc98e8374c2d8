import type { Command } from 'commander';
import {
  type BenchOptions,
  type BenchResult,
  benchForward,
  benchTrain,
  profileTrain,
} from '../../bench/train-step.js';
import { archSpec } from '../../backbone/index.js';
import { UsageError } from '../../core/errors.js';
import {
  applyWasmThreads,
  parseIntOption,
  parseThreadsOption,
  printJson,
  useBackend,
  WASM_THREADS_HELP,
} from '../common.js';

interface BenchFlags {
  arch: string;
  input?: number;
  batch: number;
  channels: number;
  iterations: number;
  warmup: number;
  json?: boolean;
  profile?: boolean;
  threads?: number;
}

/** --threads sets RESDET_WASM_THREADS, read when the wasm backend is first initialised. */
async function backendFor(flags: BenchFlags, cmd: Command): Promise<void> {
  applyWasmThreads(flags.threads, 'long');
  await useBackend(cmd);
}

function benchOptions(flags: BenchFlags): BenchOptions {
  const spec = archSpec(flags.arch);
  if (flags.channels !== 1 && flags.channels !== 3) {
    throw new UsageError(`--channels: expected 1 or 3, got ${flags.channels}`);
  }
  return {
    arch: flags.arch,
    input: flags.input ?? spec.input,
    batch: flags.batch,
    channels: flags.channels,
    iterations: flags.iterations,
    warmup: flags.warmup,
  };
}

function printResult(r: BenchResult, json: boolean | undefined, what: string): void {
  if (json) {
    printJson(r);
    return;
  }
  const threads = r.threads !== undefined ? `, ${r.threads} thread${r.threads === 1 ? '' : 's'}` : '';
  console.log(
    `${r.arch} ${what}, ${r.batch} x ${r.input}px x ${r.channels}ch on ${r.backend}${threads}: ` +
      `${r.img_per_s} img/s, ${r.ms_per_iter} ms/iter (CPU time ${r.cpu_ms_per_iter} ms/iter, median of ${r.iterations})`,
  );
}

function addCommon(cmd: Command, defaultBatch: string): Command {
  return cmd
    .requiredOption('--arch <name>', 'architecture (see `resdet models`), e.g. resnet20, resnet50')
    .option(
      '--input <px>',
      'input side in pixels (default: the architecture native size)',
      parseIntOption('--input', 8),
    )
    .option('--batch <n>', 'batch size', parseIntOption('--batch', 1), Number(defaultBatch))
    .option(
      '--channels <n>',
      'input channels: 3 (RGB) or 1 (grayscale, e.g. Fashion-MNIST)',
      parseIntOption('--channels', 1),
      3,
    )
    .option(
      '--iterations <n>',
      'timed iterations (the median is reported)',
      parseIntOption('--iterations', 1),
      5,
    )
    .option('--warmup <n>', 'untimed iterations first', parseIntOption('--warmup', 0), 1)
    .option('--threads <n>', WASM_THREADS_HELP, parseThreadsOption)
    .option('--json', 'print {"arch","input","batch","backend","img_per_s","ms_per_iter",...}');
}

export function register(program: Command): void {
  const bench = program
    .command('bench')
    .description('measure training-step and forward-pass throughput (img/s) on the chosen backend');

  addCommon(
    bench
      .command('train')
      .description(
        'one SGD step per iteration: forward with batch statistics, softmax cross-entropy, backward, update',
      ),
    '64',
  )
    .option('--profile', 'also print time per kernel over one step')
    .action(async (flags: BenchFlags, cmd: Command) => {
      const o = benchOptions(flags);
      await backendFor(flags, cmd);
      const r = await benchTrain(o);
      if (!flags.profile) {
        printResult(r, flags.json, 'training step');
        return;
      }
      const p = await profileTrain(o);
      if (flags.json) {
        printJson({ ...r, profile: p });
        return;
      }
      printResult(r, false, 'training step');
      console.log(`kernel time over one step: ${p.totalMs} ms`);
      for (const k of p.kernels.filter((k) => k.ms >= 0.05)) {
        console.log(
          `  ${k.kernel.padEnd(26)} ${String(k.calls).padStart(5)} calls ${k.ms.toFixed(1).padStart(9)} ms ${(100 * k.share).toFixed(1).padStart(5)}%`,
        );
      }
    });

  addCommon(
    bench.command('forward').description('inference forward pass (BN folded into the convolutions)'),
    '1',
  ).action(async (flags: BenchFlags, cmd: Command) => {
    const o = benchOptions(flags);
    await backendFor(flags, cmd);
    printResult(await benchForward(o), flags.json, 'forward');
  });
}
