import { join } from 'node:path';
import { ResdetError, UsageError } from '../../core/errors.js';
import { readJsonDocument } from '../../data/coco/read-json.js';
import { evaluateVoc, VOC_CLASSES, type VocDetection, type VocMetric, type VocSummary } from './voc.js';
import { readImageSet, readVocGroundTruth, readVocResultFiles, vocDetectionsFromCocoJson } from './voc-io.js';

export interface VocFilesOptions {
  /** Directory of <image_id>.xml annotations (default `<root>/Annotations`). */
  annotations?: string;
  /** Image ids, one per line (default `<root>/ImageSets/Main/<split>.txt`). */
  imageset?: string;
  /** A VOC year directory (VOCdevkit/VOC2007). */
  root?: string;
  /** Image set under `root` (default test). */
  split?: string;
  /** Per-class devkit files with {cls} ('results/comp4_det_test_{cls}.txt') or a COCO-style results .json. */
  dets: string;
  /** Default voc07. */
  metric?: VocMetric;
  /** Classes to evaluate (default: those with results), in category-id order for numeric ids. */
  classes?: string[];
  /** Told what a person should know (where the class order came from, classes without results). */
  warn?: (line: string) => void;
}

export interface VocFilesResult {
  summary: VocSummary;
  images: number;
  detections: number;
}

function vocPaths(opts: VocFilesOptions): { annotations: string; imageset: string } {
  if (opts.root) {
    return {
      annotations: opts.annotations ?? join(opts.root, 'Annotations'),
      imageset: opts.imageset ?? join(opts.root, 'ImageSets', 'Main', `${opts.split ?? 'test'}.txt`),
    };
  }
  if (!opts.annotations || !opts.imageset)
    throw new UsageError(
      'eval voc needs --annotations DIR and --imageset FILE, or --root VOCdevkit/VOC2007 [--split test]',
    );
  return { annotations: opts.annotations, imageset: opts.imageset };
}

/**
 * `resdet eval voc` as a library call: reads the annotations, the image set and the results
 * (devkit files or COCO-style JSON) and scores them as py-faster-rcnn's voc_eval.
 */
export async function evaluateVocFiles(opts: VocFilesOptions): Promise<VocFilesResult> {
  const warn = opts.warn ?? (() => {});
  const { annotations, imageset } = vocPaths(opts);
  const ids = readImageSet(imageset);
  if (ids.length === 0) throw new ResdetError(`${imageset}: the image set is empty`);
  const gt = readVocGroundTruth(annotations, ids);
  const gtClasses = new Set(gt.flatMap((img) => img.objects.map((o) => o.name)));
  const given = opts.classes;
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
      if (resolved.note) warn(resolved.note);
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
      warn(`no result file for ${missing.join(', ')}: ${given ? 'AP 0' : 'not evaluated'}`);
    detections = files.detections;
    classes = given ?? files.classes;
  }
  const summary = evaluateVoc(gt, detections, {
    metric: opts.metric ?? 'voc07',
    classes,
    gtSource: annotations,
    dtSource: opts.dets,
  });
  return { summary, images: ids.length, detections: detections.length };
}
