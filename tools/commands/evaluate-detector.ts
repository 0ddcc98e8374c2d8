import type { Command } from 'commander';
import { parseDatasetSpec } from '../../data/detection/spec.js';
import { evaluateDetector } from '../../detection/app/evaluate-detector.js';
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
      const report = await evaluateDetector({
        model: flags.model,
        data: spec,
        metrics,
        out: flags.out,
        limit: flags.limit,
        silent: flags.json,
        warn: (line) => console.error(`resdet: ${line}`),
      });
      printDetectorReport(report, flags.json);
    });
}
