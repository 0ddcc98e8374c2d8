import { type Command, Option } from 'commander';
import { DETECTOR_TRAINING_DEFAULTS as DEFAULTS } from '../../detection/train/defaults.js';
import {
  DEFAULT_DETECTOR_ITERATIONS,
  type TrainDetectorOptions,
  trainDetector,
} from '../../detection/train/train-detector.js';
import {
  parseFloatOption,
  parseIntOption,
  parseThreadsOption,
  parseListOption,
  printJson,
  useBackend,
  applyWasmThreads,
  WASM_THREADS_HELP,
} from '../common.js';
import { abortOnSignals } from '../abort.js';

/** The options as commander parses them: the library's own names, plus the flags it spells differently. */
type TrainDetectorFlags = Omit<
  TrainDetectorOptions,
  'warmupIters' | 'rpn' | 'roiHeads' | 'silent' | 'info' | 'log'
> & {
  threads?: number;
  warmup?: number;
  roiBatch?: number;
  roiPositiveFraction?: number;
  pooler?: 'pool' | 'align';
  poolSize?: number;
  nmsThreshold?: number;
  json?: boolean;
};

export function register(program: Command): void {
  program
    .command('train-detector')
    .description(
      'train a Faster R-CNN (C4) detector on a ResNet backbone (checkpoints, --resume, metrics.jsonl, loss.png)',
    )
    .requiredOption(
      '--data <spec>',
      'training set: voc:ROOT[:split] | coco:ANN.json[:IMAGE_DIR] (A+B for a union)',
    )
    .option(
      '--backbone <dir|arch>',
      'classifier checkpoint (pretrained: frozen BN, conv1+conv2_x frozen) or an architecture trained from scratch: resnet50, resnet18, resnet18-w16 (16-channel first stage) ...; required unless --resume',
    )
    .option(
      '--from <dir>',
      "fine-tune a detector checkpoint (trained, or from `resdet import torchvision --arch fasterrcnn_resnet50_fpn...`): keeps everything but the box predictor, rebuilt for the data's classes",
    )
    .option('--keep-predictor', "with --from: keep the checkpoint's box predictor (the classes must match)")
    .addOption(
      new Option(
        '--bn <mode>',
        'with --from: frozen BN (default) or BN trained with batch statistics',
      ).choices(['frozen', 'trainable']),
    )
    .requiredOption('--out <dir>', 'checkpoint directory (also metrics.jsonl and loss.png)')
    .option(
      '--iterations <n>',
      `total iterations (default ${DEFAULT_DETECTOR_ITERATIONS}; with --resume, the run's own total)`,
      parseIntOption('--iterations', 1),
    )
    .option(
      '--max-minutes <m>',
      'stop with a checkpoint after this many minutes',
      parseFloatOption('--max-minutes', { above: 0 }),
    )
    .option('--fit-to-time', 'with --max-minutes: shorten the run and its lr steps to what fits in the time')
    .option('--resume', 'continue the run saved in --out')
    .option('--force', 'start over even if --out holds a checkpoint')
    .option('--eval-every <n>', 'evaluate VOC07 mAP every n iterations', parseIntOption('--eval-every', 1))
    .option('--eval-data <spec>', 'evaluation set (default: the test split next to a VOC training split)')
    .option(
      '--eval-images <n>',
      `images per evaluation (default ${DEFAULTS.eval.images})`,
      parseIntOption('--eval-images', 1),
    )
    .option(
      '--min-size <s>',
      `resize so the short side is s (default ${DEFAULTS.input.minSize})`,
      parseIntOption('--min-size', 16),
    )
    .option(
      '--max-size <s>',
      `... unless the long side would exceed s (default ${DEFAULTS.input.maxSize})`,
      parseIntOption('--max-size', 16),
    )
    .option(
      '--anchor-sizes <list>',
      'anchor sizes in pixels (default 128,256,512)',
      parseListOption('--anchor-sizes'),
    )
    .option(
      '--aspect-ratios <list>',
      'anchor height/width ratios (default 0.5,1,2)',
      parseListOption('--aspect-ratios'),
    )
    .option(
      '--base-width <n>',
      'first-stage width of a from-scratch backbone',
      parseIntOption('--base-width', 1),
    )
    .addOption(
      new Option(
        '--preset <name>',
        'paper: 14x14 RoI pooling, 128 RoIs/img, 12000/2000 proposals; cpu: 7x7, 64 RoIs, 2000/500',
      )
        .choices(['paper', 'cpu'])
        .default('paper'),
    )
    .option(
      '--images-per-batch <n>',
      'images per iteration (image-centric batches)',
      parseIntOption('--images-per-batch', 1),
      DEFAULTS.solver.imagesPerBatch,
    )
    .option(
      '--lr <lr>',
      `base learning rate (default per image: ${DEFAULTS.solver.lrPerImageScratch} from scratch, ${DEFAULTS.solver.lrPerImagePretrained} pretrained)`,
      parseFloatOption('--lr', { above: 0 }),
    )
    .option(
      '--warmup <n>',
      `linear warm-up iterations (default min(${DEFAULTS.solver.warmupItersMax}, iterations/10))`,
      parseIntOption('--warmup', 0),
    )
    .option(
      '--steps <list>',
      'iterations where the learning rate drops 10x (default 2/3 and 8/9 of the run)',
      parseListOption('--steps'),
    )
    .option(
      '--checkpoint-every <n>',
      'iterations between checkpoints',
      parseIntOption('--checkpoint-every', 1),
      DEFAULTS.solver.checkpointEvery,
    )
    .option(
      '--freeze-at <n>',
      'ResNet stages frozen from the input, 0-5 (default 2 pretrained or --from, 0 from scratch)',
      parseIntOption('--freeze-at', 0, 5),
    )
    .option('--roi-batch <n>', 'RoIs sampled per image (paper 128, or 512)', parseIntOption('--roi-batch', 1))
    .option(
      '--roi-positive-fraction <f>',
      'largest foreground share of the sampled RoIs (paper 0.25)',
      parseFloatOption('--roi-positive-fraction', { above: 0, max: 1 }),
    )
    .addOption(
      new Option('--pooler <op>', 'RoI pooling op (default pool, as the paper)').choices(['pool', 'align']),
    )
    .option('--pool-size <n>', 'RoI pooling output side (paper 14)', parseIntOption('--pool-size', 2))
    .option(
      '--nms-threshold <t>',
      'per-class NMS IoU at inference (default 0.3 VOC, 0.5 COCO)',
      parseFloatOption('--nms-threshold', { min: 0, max: 1 }),
    )
    .option(
      '--seed <n>',
      'seed for initialisation, data order, flips and sampling',
      parseIntOption('--seed', 0),
      DEFAULTS.solver.seed,
    )
    .option('--no-flip', 'no horizontal flips')
    .option('--json', 'print a JSON summary at the end')
    .option('--threads <n>', WASM_THREADS_HELP, parseThreadsOption)
    .action(async (flags: TrainDetectorFlags, cmd: Command) => {
      const {
        threads,
        warmup,
        roiBatch,
        roiPositiveFraction,
        pooler,
        poolSize,
        nmsThreshold,
        json,
        ...options
      } = flags;
      applyWasmThreads(threads, 'long');
      const backend = await useBackend(cmd);
      const roiHeads = {
        ...(roiBatch !== undefined && { batchSizePerImage: roiBatch }),
        ...(roiPositiveFraction !== undefined && { positiveFraction: roiPositiveFraction }),
        ...(pooler !== undefined && { pooler }),
        ...(poolSize !== undefined && { poolSize }),
        ...(nmsThreshold !== undefined && { nmsThreshold }),
      };
      const abort = abortOnSignals();
      const result = await trainDetector({
        ...options,
        warmupIters: warmup,
        roiHeads,
        info: { backend },
        signal: abort.signal,
      }).finally(() => abort.dispose());
      const summary = {
        out: result.checkpoint,
        dataset: result.dataset,
        images: result.images,
        iteration: result.iteration,
        stoppedBy: result.stoppedBy,
        seconds: Math.round(result.seconds),
        totalSeconds: Math.round(result.totalSeconds),
        backend,
        lastLoss: result.lastLoss,
        lastEval: result.lastEval,
      };
      if (json) printJson(summary);
      else {
        const evalText = result.lastEval
          ? `, ${Object.entries(result.lastEval)
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join(', ')}`
          : '';
        console.log(
          `${result.stoppedBy === 'done' ? 'finished' : `stopped (${result.stoppedBy})`} at iteration ${result.iteration} ` +
            `after ${Math.round(result.totalSeconds)} s on ${backend}: loss ${result.lastLoss?.total.toFixed(4) ?? '-'}${evalText}`,
        );
        console.log(`checkpoint, metrics.jsonl and loss.png in ${result.checkpoint}`);
      }
      // Interrupted is not finished: the shell's codes, as pretrain uses.
      const code = abort.exitCode();
      if (code !== undefined) process.exitCode = code;
    });
}
