import { join } from 'node:path';
import type { Command } from 'commander';
import { ResdetError, UsageError } from '../../core/errors.js';
import { openCoco } from '../../data/detection/coco.js';
import { readCocoInstances } from '../../data/detection/coco-source.js';
import { formatProblem } from '../../data/detection/problems.js';
import { openDataset, parseDatasetSpec } from '../../data/detection/spec.js';
import { loadDetector } from '../../detection/detector.js';
import { cocoSummaryJson, formatCocoSummary } from '../../detection/eval/coco.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import {
  type CocoAnnotationsSource,
  type DetectorMetric,
  detectDataset,
  alignToDataset,
  evaluateDetections,
  writeResultFiles,
} from '../../detection/evaluate.js';
import { parseIntOption, printJson, useBackend } from '../common.js';

interface EvaluateDetectorFlags {
  model: string;
  data: string;
  metric: string;
  out?: string;
  limit?: number;
  json?: boolean;
}

const METRICS: readonly DetectorMetric[] = ['voc07', 'area', 'coco'];

function parseMetrics(value: string): DetectorMetric[] {
  const list = value.split(',').map((m) => m.trim().toLowerCase());
  for (const m of list) {
    if (!(METRICS as readonly string[]).includes(m))
      throw new UsageError(
        `--metric ${m}: unknown metric`,
        'use voc07, area or coco (comma-separated for several)',
      );
  }
  if (list.includes('voc07') && list.includes('area'))
    throw new UsageError('--metric: choose one of voc07 and area (both are VOC AP)');
  return list as DetectorMetric[];
}

export function register(program: Command): void {
  program
    .command('evaluate-detector')
    .description(
      'run a detector over a dataset, write COCO results JSON and VOC devkit files, and report mAP',
    )
    .requiredOption('--model <dir>', 'detector checkpoint directory')
    .requiredOption('--data <spec>', 'evaluation set: voc:ROOT:test | coco:ANN.json[:IMAGE_DIR]')
    .option(
      '--metric <list>',
      'voc07 (11-point), area (VOC2010+) or coco; comma-separated for several',
      'voc07',
    )
    .option('--out <dir>', 'where result files go (default: <model>/eval)')
    .option('--limit <n>', 'evaluate only the first n images', parseIntOption('--limit', 1))
    .option('--json', 'print the results as JSON')
    .action(async (flags: EvaluateDetectorFlags, cmd: Command) => {
      const metrics = parseMetrics(flags.metric);
      const spec = parseDatasetSpec(flags.data);
      await useBackend(cmd);
      const detector = await loadDetector(flags.model);
      try {
        const single = spec.sources.length === 1 ? spec.sources[0] : undefined;
        // A single COCO file is read once: the opener and the ground truth share the document.
        let coco: CocoAnnotationsSource | undefined;
        let dataset: DetectionDataset;
        if (single?.kind === 'coco') {
          coco = { path: single.annotations, instances: await readCocoInstances(single.annotations) };
          dataset = await openCoco(single.annotations, single.imageDir, {
            skipBad: true,
            instances: coco.instances,
          });
        } else {
          dataset = await openDataset(spec, { skipBad: true });
        }
        for (const note of dataset.notes ?? []) console.error(`resdet: ${note}`);
        // Bad records are left out of the ground truth (as training does); say so, since the mAP
        // then covers less than the set holds.
        const first = dataset.problems[0];
        const example = first ? `; first: ${formatProblem(first)}` : '';
        const { images: badImages, objects: badObjects } = dataset.skipped;
        if (dataset.length === 0)
          throw new ResdetError(
            `${dataset.name}: no images to evaluate${badImages > 0 ? ` (all ${badImages} were left out as bad data${example})` : ''}`,
            'check the annotations and that the image files exist',
          );
        if (badImages + badObjects > 0)
          console.error(
            `resdet: ${dataset.name}: left out ${badImages} image(s) and ${badObjects} object(s) with bad data${example} (\`resdet data stats --data ${flags.data} --skip-bad\` lists them)`,
          );
        // Same classes, or (torchvision's COCO layout) the same COCO category ids.
        const aligned = alignToDataset(detector, dataset);
        const t0 = performance.now();
        const results = await detectDataset(aligned, dataset, { limit: flags.limit, silent: flags.json });
        const seconds = (performance.now() - t0) / 1000;
        const out = flags.out ?? join(flags.model, 'eval');
        const files = writeResultFiles(out, results, dataset.classes, dataset.categoryIds);
        const ev = evaluateDetections(results, dataset, metrics, { annotationsFile: coco });
        const report = {
          model: flags.model,
          data: dataset.name,
          images: results.length,
          seconds: Math.round(seconds * 10) / 10,
          files,
          ...(ev.voc && { voc: { metric: ev.voc.metric, mAP: ev.voc.mAP, per_class: ev.voc.per_class } }),
          ...(ev.coco && { coco: cocoSummaryJson(ev.coco) }),
        };
        if (flags.json) {
          printJson(report);
          return;
        }
        console.log(`${results.length} images of ${dataset.name} in ${report.seconds} s`);
        if (ev.voc) {
          console.log(`VOC ${ev.voc.metric} mAP: ${ev.voc.mAP.toFixed(4)}`);
          for (const [cls, ap] of Object.entries(ev.voc.per_class))
            console.log(`  ${cls.padEnd(16)} ${ap.toFixed(4)}`);
        }
        if (ev.coco) console.log(formatCocoSummary(ev.coco));
        console.log(`results: ${files.cocoJson}, ${files.vocDir}/comp4_det_test_<class>.txt`);
      } finally {
        detector.dispose();
      }
    });
}
