/**
 * `resdet eval coco` and `resdet eval voc`: detection mAP with the reference tools' semantics
 * (pycocotools' COCOeval for boxes, masks and keypoints; py-faster-rcnn's voc_eval for VOC).
 * Nothing here loads TF.js or sharp until a plot is written: evaluation is arithmetic on JSON.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { ResdetError, UsageError } from '../../core/errors.js';
import { loadCocoDataset, loadCocoResultArrays } from '../../data/coco/load.js';
import { readJsonDocument } from '../../data/coco/read-json.js';
import type { CocoDataset } from '../../data/coco/dataset.js';
import type { CocoResultArrays } from '../../data/coco/results-fast.js';
import { cocoSummaryJson, evaluateCoco, formatCocoSummary } from '../../detection/eval/coco.js';
import { diagnoseCoco } from '../../detection/eval/coco-diagnose.js';
import { formatDiagnosis, writeDiagnosisPlots } from '../../detection/eval/coco-diagnose-report.js';
import { writeCocoPlot, writeVocPlot } from '../../detection/eval/plots.js';
import {
  evaluateVoc,
  VOC_CLASSES,
  type VocDetection,
  type VocMetric,
  type VocSummary,
} from '../../detection/eval/voc.js';
import {
  readImageSet,
  readVocGroundTruth,
  readVocResultFiles,
  vocDetectionsFromCocoJson,
} from '../../detection/eval/voc-io.js';
import { COCO_IOU_TYPES, type CocoIouType } from '../../detection/eval/coco-params.js';
import { parseFloatOption, printJson, verboseLog } from '../common.js';

interface CocoOpts {
  gt: string;
  dt: string;
  iouType: CocoIouType;
  json?: boolean;
  plot?: string;
  diagnose?: boolean;
  scoreThreshold: number;
}

interface VocOpts {
  annotations?: string;
  imageset?: string;
  root?: string;
  split: string;
  dets: string;
  metric: VocMetric;
  classes?: string;
  json?: boolean;
  plot?: string;
}

async function runCoco(opts: CocoOpts, cmd: Command): Promise<void> {
  const t0 = performance.now();
  const iouType = opts.iouType;
  const gt = await loadCocoDataset(opts.gt, {
    keepSegmentation: iouType === 'segm',
    compact: iouType !== 'bbox',
  });
  const t1 = performance.now();
  const dt = await loadCocoResultArrays(opts.dt, gt, { iouType });
  const t2 = performance.now();
  if (opts.diagnose) return runCocoDiagnose(opts, cmd, gt, dt);
  const summary = evaluateCoco(gt, dt, { dtSource: opts.dt, gtSource: opts.gt, iouType });
  const t3 = performance.now();
  verboseLog(
    cmd,
    `load GT ${((t1 - t0) / 1000).toFixed(2)} s, load results ${((t2 - t1) / 1000).toFixed(2)} s, evaluate ${((t3 - t2) / 1000).toFixed(2)} s (${summary.counts.images} images, ${summary.counts.annotations} GT, ${summary.counts.detections} detections)`,
  );
  if (opts.plot) await writeCocoPlot(opts.plot, summary);
  if (opts.json) {
    printJson(cocoSummaryJson(summary));
    return;
  }
  console.log(formatCocoSummary(summary));
  console.log('');
  console.log('per-category AP@[.50:.95] (-1: no ground truth)');
  summary.catIds.forEach((id, k) => {
    const ap = summary.per_category[String(id)];
    console.log(
      `  ${String(id).padStart(5)}  ${summary.catNames[k].padEnd(20)} ${ap === -1 ? '   -1' : ap.toFixed(4)}`,
    );
  });
  if (opts.plot) console.log(`\nplot: ${opts.plot}`);
}

async function runCocoDiagnose(
  opts: CocoOpts,
  cmd: Command,
  gt: CocoDataset,
  dt: CocoResultArrays,
): Promise<void> {
  const t0 = performance.now();
  const { summary, diagnosis } = diagnoseCoco(gt, dt, {
    dtSource: opts.dt,
    gtSource: opts.gt,
    iouType: opts.iouType,
    scoreThreshold: opts.scoreThreshold,
  });
  verboseLog(cmd, `evaluate + diagnose ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const plots = opts.plot ? await writeDiagnosisPlots(opts.plot, summary, diagnosis) : [];
  if (opts.json) {
    printJson({ ...cocoSummaryJson(summary), diagnostics: diagnosis });
    return;
  }
  console.log(formatCocoSummary(summary));
  console.log('');
  console.log(formatDiagnosis(diagnosis));
  if (plots.length > 0) console.log(`\nplots: ${plots.join(', ')}`);
}

function vocPaths(opts: VocOpts): { annotations: string; imageset: string } {
  if (opts.root) {
    return {
      annotations: opts.annotations ?? join(opts.root, 'Annotations'),
      imageset: opts.imageset ?? join(opts.root, 'ImageSets', 'Main', `${opts.split}.txt`),
    };
  }
  if (!opts.annotations || !opts.imageset)
    throw new UsageError(
      'eval voc needs --annotations DIR and --imageset FILE, or --root VOCdevkit/VOC2007 [--split test]',
    );
  return { annotations: opts.annotations, imageset: opts.imageset };
}

async function runVoc(opts: VocOpts, cmd: Command): Promise<void> {
  const { annotations, imageset } = vocPaths(opts);
  const ids = readImageSet(imageset);
  if (ids.length === 0) throw new ResdetError(`${imageset}: the image set is empty`);
  const gt = readVocGroundTruth(annotations, ids);
  const gtClasses = new Set(gt.flatMap((img) => img.objects.map((o) => o.name)));
  const given = opts.classes
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  let detections: VocDetection[];
  let classes: string[] | undefined = given;
  const isJson = opts.dets.toLowerCase().endsWith('.json');
  if (isJson) {
    const doc = await readJsonDocument(opts.dets);
    const { resolveVocClasses } = await import('../../data/detection/voc.js');
    // A numeric category_id is a 1-based index into the set's class order: the one training and
    // evaluate-detector read from --root (classes.txt, ...), else VOC's 20.
    let order: readonly string[] = given ?? VOC_CLASSES;
    if (!given && opts.root) {
      const resolved = resolveVocClasses(opts.root);
      order = resolved.classes;
      if (resolved.note) process.stderr.write(`resdet: ${resolved.note}\n`);
    }
    const unknown = [...gtClasses].filter((c) => !order.includes(c));
    const numeric =
      Array.isArray(doc) &&
      doc.some((r) => typeof (r as { category_id?: unknown } | null)?.category_id === 'number');
    if (!given && numeric && unknown.length > 0)
      throw new UsageError(
        `${opts.dets}: numeric category ids would be read as indices into ${order === VOC_CLASSES ? "VOC's 20 classes" : 'the class list'}, but the annotations name other classes (${unknown.slice(0, 5).join(', ')})`,
        'pass --classes with the class names in category-id order (id 1 first), or --root of a set with classes.txt',
      );
    detections = vocDetectionsFromCocoJson(doc, order, ids, opts.dets);
  } else {
    if (!opts.dets.includes('{cls}') && !opts.dets.includes('%s'))
      throw new UsageError(
        `--dets "${opts.dets}" is neither a .json results list nor a per-class pattern`,
        "write the class as {cls}, e.g. 'results/comp4_det_test_{cls}.txt'",
      );
    const candidates = given ?? [
      ...VOC_CLASSES,
      ...[...gtClasses].filter((c) => !VOC_CLASSES.includes(c)).sort(),
    ];
    const files = readVocResultFiles(opts.dets, candidates);
    if (files.classes.length === 0)
      throw new ResdetError(
        `no result file matches ${opts.dets} for any class (tried ${candidates.slice(0, 5).join(', ')}, ...)`,
      );
    const missing = (given ?? [...gtClasses]).filter((c) => !files.classes.includes(c));
    if (missing.length > 0)
      process.stderr.write(
        `resdet: no result file for ${missing.join(', ')}: ${given ? 'AP 0' : 'not evaluated'}\n`,
      );
    detections = files.detections;
    classes = given ?? files.classes;
  }
  const summary = evaluateVoc(gt, detections, {
    metric: opts.metric,
    classes,
    gtSource: annotations,
    dtSource: opts.dets,
  });
  verboseLog(cmd, `${ids.length} images, ${detections.length} detections, ${summary.classes.length} classes`);
  if (opts.plot) await writeVocPlot(opts.plot, summary);
  if (opts.json) {
    printJson({ metric: summary.metric, mAP: summary.mAP, per_class: summary.per_class });
    return;
  }
  printVoc(summary, ids.length);
  if (opts.plot) console.log(`\nplot: ${opts.plot}`);
}

function printVoc(s: VocSummary, images: number): void {
  const name = s.metric === 'voc07' ? 'VOC2007 11-point' : 'VOC2010+ area';
  console.log(`${name} AP at IoU > 0.5 on ${images} images`);
  const w = Math.max(8, ...s.classes.map((c) => c.length));
  console.log(`  ${'class'.padEnd(w)}  AP      objects  detections`);
  for (const c of s.classes) {
    const d = s.details[c];
    const ap = d.ap.toFixed(4);
    console.log(
      `  ${c.padEnd(w)}  ${ap}  ${String(d.npos).padStart(7)}  ${String(d.detections).padStart(10)}`,
    );
  }
  console.log(`  ${'mAP'.padEnd(w)}  ${s.mAP.toFixed(4)}`);
}

export function register(program: Command): void {
  const evalCmd = program
    .command('eval')
    .description(
      'detection mAP: COCO (pycocotools bbox, segm and keypoints protocols, diagnostics) and PASCAL VOC',
    );

  evalCmd
    .command('coco')
    .description("COCO AP/AR for boxes, masks or keypoints, the same numbers as pycocotools' COCOeval")
    .requiredOption('--gt <file>', 'COCO instances JSON (ground truth); large files are streamed')
    .requiredOption(
      '--dt <file>',
      'results JSON: [{"image_id", "category_id", "bbox": [x,y,w,h] | "segmentation": RLE | "keypoints": [x,y,v,...], "score"}, ...]',
    )
    .addOption(
      new Option('--iou-type <type>', 'what is compared: boxes (IoU), masks (mask IoU) or keypoints (OKS)')
        .choices([...COCO_IOU_TYPES])
        .default('bbox'),
    )
    .option(
      '--json',
      'print {"AP", ..., "ARl", "per_category": {"<catId>": AP}} (keypoints: AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl)',
    )
    .option('--plot <png|dir>', 'write precision/recall curves (with --diagnose: a folder of PNGs)')
    .option(
      '--diagnose',
      'per-category AP/AP50/AR, P/R/F1 at --score-threshold, a confusion matrix with background, and the TIDE error breakdown',
    )
    .option(
      '--score-threshold <s>',
      'with --diagnose: detections below this score are left out of P/R/F1 and the confusion matrix',
      parseFloatOption('--score-threshold', { min: 0, max: 1 }),
      0.5,
    )
    .action(async (opts: CocoOpts, cmd: Command) => runCoco(opts, cmd));

  evalCmd
    .command('voc')
    .description("PASCAL VOC AP per class and mAP, as py-faster-rcnn's voc_eval")
    .option('--annotations <dir>', 'directory of <image_id>.xml annotations')
    .option('--imageset <file>', 'image ids to evaluate, one per line (ImageSets/Main/test.txt)')
    .option(
      '--root <dir>',
      'a VOC year directory (VOCdevkit/VOC2007): Annotations/ and ImageSets/Main/<split>.txt',
    )
    .option('--split <name>', 'image set under --root', 'test')
    .requiredOption(
      '--dets <pattern|file.json>',
      "per-class devkit files with {cls} ('results/comp4_det_test_{cls}.txt') or a COCO-style results .json",
    )
    .addOption(
      new Option('--metric <name>', 'voc07: 11-point (VOC2007); area: area under the PR envelope (VOC2010+)')
        .choices(['voc07', 'area'])
        .default('voc07'),
    )
    .option('--classes <list>', 'comma-separated classes to evaluate (default: those with results)')
    .option('--json', 'print {"metric", "mAP", "per_class": {"<class>": AP}}')
    .option('--plot <png>', 'write precision/recall curves per class')
    .action(async (opts: VocOpts, cmd: Command) => {
      if (!opts.root && opts.annotations && !existsSync(opts.annotations))
        throw new ResdetError(`--annotations ${opts.annotations} does not exist`);
      await runVoc(opts, cmd);
    });
}
