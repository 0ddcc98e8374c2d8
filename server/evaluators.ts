import { ResdetError } from '../core/errors.js';
import { cocoSummaryJson, evaluateCoco } from '../detection/eval/coco.js';
import { evaluateVoc, type VocMetric } from '../detection/eval/voc.js';
import type { Evaluators } from './services.js';

function field(body: Record<string, unknown>, name: string, what: string): unknown {
  if (!(name in body)) throw new ResdetError(`request body: missing "${name}" (${what})`);
  return body[name];
}

function optionalStrings(body: Record<string, unknown>, name: string): string[] | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    throw new ResdetError(`request body: "${name}" must be a list of strings`);
  return v;
}

/**
 * POST /v1/evaluate/coco: `{gt: <instances JSON>, dt: [<result records>]}` ->
 * the 12 COCOeval numbers, per-category AP and AP50 (-1 for a category without GT) and counts.
 */
function coco(body: unknown) {
  const b = body as Record<string, unknown>;
  const gt = field(b, 'gt', 'a COCO instances object with images, annotations, categories');
  const dt = field(b, 'dt', 'a list of {image_id, category_id, bbox, score}');
  const s = evaluateCoco(gt, dt, { gtSource: 'gt', dtSource: 'dt' });
  return { ...cocoSummaryJson(s), per_category_ap50: s.per_category_ap50, counts: s.counts };
}

/**
 * POST /v1/evaluate/voc: `{images: [{id, objects: [{name, bbox, difficult?}]}], detections:
 * [{image_id, class, score, bbox}], metric?: "voc07" | "area", classes?: [...]}` with 1-based
 * devkit boxes -> per-class AP and mAP for the metric asked, or both.
 */
function voc(body: unknown) {
  const b = body as Record<string, unknown>;
  const images = field(b, 'images', 'a list of {id, objects: [{name, bbox, difficult}]}');
  const detections = field(b, 'detections', 'a list of {image_id, class, score, bbox}');
  const classes = optionalStrings(b, 'classes');
  let metrics: VocMetric[] = ['voc07', 'area'];
  if (b.metric !== undefined) {
    if (b.metric !== 'voc07' && b.metric !== 'area')
      throw new ResdetError(
        `request body: "metric" must be "voc07" or "area", got ${JSON.stringify(b.metric)}`,
      );
    metrics = [b.metric];
  }
  const out: Record<string, unknown> = {};
  for (const metric of metrics) {
    const s = evaluateVoc(images, detections, {
      metric,
      classes,
      gtSource: 'images',
      dtSource: 'detections',
    });
    out.classes = s.classes;
    out[metric] = { mAP: s.mAP, ap: s.per_class };
  }
  return out;
}

/** The real evaluation library behind /v1/evaluate/*. */
export const evaluators: Evaluators = { coco, voc };
