import { UsageError } from '../core/errors.js';
import { cocoSummaryJson, formatCocoSummary } from '../detection/eval/coco.js';
import type { DetectorReport } from '../detection/app/evaluate-detector.js';
import type { DetectorMetric } from '../detection/app/evaluate.js';
import { printJson } from './common.js';

export type { DetectorReport };

const METRICS: readonly DetectorMetric[] = ['voc07', 'area', 'coco'];

/** `--metric voc07,coco` as evaluate-detector and `queue collect` take it. */
export function parseMetrics(value: string): DetectorMetric[] {
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

/** Prints an evaluation as evaluate-detector does: JSON, or mAP lines and the COCO summary. */
export function printDetectorReport(r: DetectorReport, json: boolean | undefined): void {
  const ev = r.evaluation;
  if (json) {
    printJson({
      model: r.model,
      data: r.data,
      images: r.images,
      seconds: Math.round(r.seconds * 10) / 10,
      files: r.files,
      ...r.extra,
      ...(ev.voc && { voc: { metric: ev.voc.metric, mAP: ev.voc.mAP, per_class: ev.voc.per_class } }),
      ...(ev.coco && { coco: cocoSummaryJson(ev.coco) }),
    });
    return;
  }
  console.log(`${r.images} images of ${r.data} in ${Math.round(r.seconds * 10) / 10} s`);
  if (ev.voc) {
    console.log(`VOC ${ev.voc.metric} mAP: ${ev.voc.mAP.toFixed(4)}`);
    for (const [cls, ap] of Object.entries(ev.voc.per_class))
      console.log(`  ${cls.padEnd(16)} ${ap.toFixed(4)}`);
  }
  if (ev.coco) console.log(formatCocoSummary(ev.coco));
  console.log(`results: ${r.files.cocoJson}, ${r.files.vocDir}/comp4_det_test_<class>.txt`);
}
