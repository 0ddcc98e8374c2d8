import { join } from 'node:path';
import type { Command } from 'commander';
import { parseDatasetSpec } from '../../data/detection/spec.js';
import { loadDetector } from '../../detection/detector.js';
import { openEvaluationSet } from '../../detection/eval-set.js';
import {
  alignToDataset,
  detectDataset,
  evaluateDetections,
  writeResultFiles,
} from '../../detection/evaluate.js';
import { parseIntOption, useBackend } from '../common.js';
import { parseMetrics, printDetectorReport } from '../detector-report.js';

interface EvaluateDetectorFlags {
  model: string;
  data: string;
  metric: string;
  out?: string;
  limit?: number;
  json?: boolean;
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
        const { dataset, coco } = await openEvaluationSet(spec, (line) => console.error(`resdet: ${line}`));
        // Same classes, or (torchvision's COCO layout) the same COCO category ids.
        const aligned = alignToDataset(detector, dataset);
        const t0 = performance.now();
        const results = await detectDataset(aligned, dataset, { limit: flags.limit, silent: flags.json });
        const seconds = (performance.now() - t0) / 1000;
        const out = flags.out ?? join(flags.model, 'eval');
        const files = writeResultFiles(out, results, dataset.classes, dataset.categoryIds);
        const ev = evaluateDetections(results, dataset, metrics, { annotationsFile: coco });
        printDetectorReport(
          { model: flags.model, data: dataset.name, images: results.length, seconds, files, evaluation: ev },
          flags.json,
        );
      } finally {
        detector.dispose();
      }
    });
}
