/**
 * `resdet data`: detection datasets — convert between VOC and COCO, write synthetic sets, and
 * count what a set holds (and what is wrong with it).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { UsageError } from '../../core/errors.js';
import { Progress } from '../../core/progress.js';
import { convertToCoco, convertToVoc } from '../../data/detection/convert.js';
import { openDataset } from '../../data/detection/spec.js';
import { datasetStats, formatStats } from '../../data/detection/stats.js';
import type { OpenOptions } from '../../data/detection/types.js';
import { SYNTH_DEFAULT_SIZE, type SynthKind, writeSynthSet } from '../../data/synth/write-set.js';
import { parseIntOption, printJson } from '../common.js';
import { registerDownload } from './data-download.js';

const CHECKS = ['none', 'exists', 'quick'] as const;

interface ConvertOpts {
  from: string;
  to: string;
  skipBad?: boolean;
  check: OpenOptions['checkImages'];
  json?: boolean;
}

interface SynthOpts {
  kind: SynthKind;
  out: string;
  train: number;
  test: number;
  size: number;
  seed: number;
  quality: number;
  fashionDir?: string;
  force?: boolean;
  json?: boolean;
}

interface StatsOpts {
  data: string;
  skipBad?: boolean;
  check: OpenOptions['checkImages'];
  json?: boolean;
}

/** `--to coco:OUT.json` or `--to voc:OUTROOT[:split]` (the split defaults to the source's, else trainval). */
function parseTarget(
  to: string,
  from: string,
): { kind: 'coco'; path: string } | { kind: 'voc'; root: string; split: string } {
  const m = /^(voc|coco):([^:]+)(?::([^:]+))?$/.exec(to);
  if (!m) throw new UsageError(`--to "${to}": expected coco:OUT.json or voc:OUTROOT[:split]`);
  if (m[1] === 'coco') {
    if (m[3]) throw new UsageError(`--to "${to}": images stay where they are; give only coco:OUT.json`);
    return { kind: 'coco', path: m[2] };
  }
  const fromSplit = /^voc:[^:+]+:([^:+]+)$/.exec(from)?.[1];
  return { kind: 'voc', root: m[2], split: m[3] ?? fromSplit ?? 'trainval' };
}

function registerConvert(data: Command): void {
  data
    .command('convert')
    .description('convert a detection set between VOC and COCO layouts')
    .requiredOption('--from <spec>', 'voc:ROOT[:split] or coco:ANN.json[:IMAGE_DIR]')
    .requiredOption('--to <spec>', 'coco:OUT.json or voc:OUTROOT[:split]')
    .option('--skip-bad', 'leave out bad records instead of stopping (they are counted)')
    .addOption(
      new Option('--check <level>', 'how much to check image files').choices(CHECKS).default('exists'),
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: ConvertOpts) => {
      const target = parseTarget(opts.to, opts.from);
      const ds = await openDataset(opts.from, { skipBad: opts.skipBad, checkImages: opts.check });
      for (const note of ds.notes ?? []) console.error(`resdet: ${note}`);
      const summary =
        target.kind === 'coco'
          ? convertToCoco(ds, target.path)
          : await convertToVoc(ds, target.root, target.split);
      const out = target.kind === 'coco' ? target.path : target.root;
      const spec =
        target.kind === 'coco'
          ? `coco:${target.path}:${summary.imageDir}`
          : `voc:${target.root}:${target.split}`;
      if (opts.json) {
        printJson({ ...summary, out, spec, skipped: ds.skipped });
        return;
      }
      console.log(`wrote ${summary.images} images, ${summary.objects} objects to ${out}`);
      if (ds.skipped.images + ds.skipped.objects > 0) {
        console.log(`skipped as bad data: ${ds.skipped.images} image(s), ${ds.skipped.objects} object(s)`);
      }
      console.log(`read it back with --data ${spec}`);
    });
}

function registerSynth(data: Command): void {
  data
    .command('synth')
    .description('write a synthetic detection set (JPEG images, a VOC tree and COCO json)')
    .addOption(new Option('--kind <kind>', 'what to draw').choices(['shapes', 'fashion']).default('shapes'))
    .requiredOption('--out <dir>', 'output folder')
    .option('--train <n>', 'training images', parseIntOption('--train', 0), 200)
    .option('--test <n>', 'test images', parseIntOption('--test', 0), 50)
    .option('--size <px>', 'image side in pixels', parseIntOption('--size', 32), SYNTH_DEFAULT_SIZE)
    .option('--seed <n>', 'random seed', parseIntOption('--seed', 0), 0)
    .option('--quality <q>', 'JPEG quality 1-100', parseIntOption('--quality', 1), 90)
    .option('--fashion-dir <dir>', 'Fashion-MNIST idx files (default /usr/share/datasets/fashion-mnist)')
    .option('--force', 'write into a folder that is not empty (files of the same name are replaced)')
    .option('--json', 'machine-readable output')
    .action(async (opts: SynthOpts) => {
      // Same names (000001.jpg, train.txt, ...) would replace another set's files and leave its
      // other files mixed in with the new set.
      if (
        !opts.force &&
        existsSync(opts.out) &&
        statSync(opts.out).isDirectory() &&
        readdirSync(opts.out).length > 0
      )
        throw new UsageError(
          `${opts.out} is not empty: a synthetic set written there would replace or mix with its files`,
          'choose a new or empty --out, or pass --force',
        );
      const bar = new Progress({
        total: opts.train + opts.test,
        label: `synth ${opts.kind}`,
        unit: 'img',
        silent: opts.json,
      });
      const summary = await writeSynthSet({
        kind: opts.kind,
        out: opts.out,
        train: opts.train,
        test: opts.test,
        size: opts.size,
        seed: opts.seed,
        quality: Math.min(100, opts.quality),
        fashionDir: opts.fashionDir,
        onProgress: () => bar.tick(),
      });
      bar.finish();
      if (opts.json) {
        printJson(summary);
        return;
      }
      console.log(
        `wrote ${summary.images.train} train + ${summary.images.test} test images (${summary.objects.train + summary.objects.test} objects) to ${summary.out} in ${summary.seconds.toFixed(1)} s`,
      );
      console.log(`  VOC:  voc:${summary.out}:train, voc:${summary.out}:test`);
      console.log(`  COCO: coco:${summary.out}/annotations/instances_train.json (and _test)`);
    });
}

function registerStats(data: Command): void {
  data
    .command('stats')
    .description('count images, objects per class and box sizes; report bad records')
    .requiredOption('--data <spec>', 'voc:ROOT[:split] or coco:ANN.json[:IMAGE_DIR] (+ for unions)')
    .option('--skip-bad', 'count the rest when records are bad (they are listed) instead of stopping')
    .addOption(
      new Option('--check <level>', 'image checks: none, exists, quick (header, truncation, size)')
        .choices(CHECKS)
        .default('quick'),
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: StatsOpts) => {
      const ds = await openDataset(opts.data, { skipBad: opts.skipBad, checkImages: opts.check });
      const stats = datasetStats(ds);
      if (opts.json) printJson(stats);
      else console.log(formatStats(stats));
    });
}

export function register(program: Command): void {
  const data = program.command('data').description('detection datasets: convert, synth, stats');
  registerConvert(data);
  registerSynth(data);
  registerStats(data);
  registerDownload(data);
  // Other areas add their `data` subcommands below (one import + one call each).
}
