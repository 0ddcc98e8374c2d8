import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSynthSet } from '../data/synth/write-set.js';
import { openDataset } from '../data/detection/spec.js';
import { decodeImage } from '../data/image/decode.js';
import { loadDetector } from './app/detector.js';
import { drawDetections } from './app/draw.js';
import { formatCocoSummary } from './eval/coco.js';
import { detectDataset, evaluateDetections, writeResultFiles } from './app/evaluate.js';
import { trainDetector } from './train/train-detector.js';

export interface DemoOptions {
  out: string;
  /** Training time budget; the run's length and lr steps are fitted to it. */
  minutes: number;
  train: number;
  test: number;
  /** Side of the synthetic images (also the detector's input size). */
  size: number;
  seed: number;
  /** Reported in the summary. */
  backend: string;
  /** Stops the training stage with its checkpoint (the CLI: SIGINT/SIGTERM). */
  signal?: AbortSignal;
  silent?: boolean;
  log?: (line: string) => void;
}

export interface DemoSummary {
  data: string;
  model: string;
  iterations: number;
  trainSeconds: number;
  backend: string;
  voc07_mAP: number;
  coco_AP: number;
  coco_AP50: number;
  results: { cocoJson: string; vocDir: string };
  drawing: string;
  lossPlot: string;
  summary: string;
}

/**
 * The small CPU detector the demo trains: ResNet-18 at 1/4 width, anchors for 15-60% objects,
 * RoIAlign and 16 RoIs per image (what learned fastest per CPU second on `shapes`).
 */
export function demoTrainOptions(size: number) {
  return {
    backbone: 'resnet18-w16',
    preset: 'cpu' as const,
    minSize: size,
    maxSize: size,
    anchorSizes: [size / 6, size / 3, (2 * size) / 3].map(Math.round),
    imagesPerBatch: 2,
    lr: 0.02,
    warmupIters: 50,
    roiHeads: { batchSizePerImage: 16, pooler: 'align' as const },
  };
}

/**
 * `resdet demo`: writes a synthetic `shapes` set, trains the small detector on it for `minutes`,
 * evaluates it on the test split (VOC07 and COCO), draws the detections on a test image and
 * returns where everything went.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = join(opts.out, 'shapes');
  const modelDir = join(opts.out, 'detector');
  mkdirSync(opts.out, { recursive: true });
  log(
    `[1/4] writing a synthetic shapes set (${opts.train} train + ${opts.test} test images, ${opts.size} px) to ${dataDir}`,
  );
  await writeSynthSet({
    kind: 'shapes',
    out: dataDir,
    train: opts.train,
    test: opts.test,
    size: opts.size,
    seed: opts.seed,
  });

  log(
    `[2/4] training a ResNet-18 (1/4 width) Faster R-CNN for about ${opts.minutes} minutes on ${opts.backend}`,
  );
  const trained = await trainDetector({
    ...demoTrainOptions(opts.size),
    data: `voc:${dataDir}:train`,
    out: modelDir,
    iterations: 100_000,
    maxMinutes: opts.minutes,
    fitToTime: true,
    force: true,
    checkpointEvery: 200,
    seed: opts.seed,
    silent: opts.silent,
    info: { backend: opts.backend },
    signal: opts.signal,
    log,
  });

  log(`[3/4] evaluating on the ${opts.test} test images`);
  const detector = await loadDetector(modelDir);
  try {
    const testSet = await openDataset(`voc:${dataDir}:test`);
    const results = await detectDataset(detector, testSet, { silent: opts.silent, label: 'evaluate' });
    const evalDir = join(opts.out, 'eval');
    const files = writeResultFiles(evalDir, results, testSet.classes);
    const ev = evaluateDetections(results, testSet, ['voc07', 'coco']);
    const voc = ev.voc?.mAP ?? -1;
    const coco = ev.coco;
    const cocoText = coco ? formatCocoSummary(coco) : '';
    writeFileSync(
      join(evalDir, 'summary.txt'),
      `VOC07 mAP@0.5: ${voc.toFixed(4)}\n${Object.entries(ev.voc?.per_class ?? {})
        .map(([c, ap]) => `  ${c}: ${ap.toFixed(4)}`)
        .join('\n')}\n\nCOCO:\n${cocoText}\n`,
    );

    log('[4/4] drawing detections on a test image');
    const first = testSet.get(0);
    const rgb = await decodeImage(first.path);
    const drawing = join(opts.out, `detections-${first.id}.png`);
    await drawDetections(rgb, await detector.detect(rgb, { scoreThreshold: 0.5 }), drawing, {
      classes: detector.classes,
    });
    return {
      data: dataDir,
      model: modelDir,
      iterations: trained.iteration,
      trainSeconds: Math.round(trained.totalSeconds),
      backend: opts.backend,
      voc07_mAP: voc,
      coco_AP: coco?.AP ?? -1,
      coco_AP50: coco?.AP50 ?? -1,
      results: files,
      drawing,
      lossPlot: join(modelDir, 'loss.png'),
      summary: join(evalDir, 'summary.txt'),
    };
  } finally {
    detector.dispose();
  }
}
