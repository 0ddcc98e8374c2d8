/**
 * PASCAL VOC detection AP as the devkit-style voc_eval of py-faster-rcnn computes it: boxes are
 * 1-based inclusive pixel corners (+1 in widths, heights and intersections), a detection is a
 * hit when its best IoU is strictly above the threshold, each object is matched once, and
 * "difficult" objects are neither hits nor misses. Two metrics: VOC2007's 11-point
 * interpolation and VOC2010+'s area under the precision envelope.
 */
import { ResdetError } from '../../core/errors.js';
import { VOC_CLASSES } from '../../data/detection/classes.js';

export type VocMetric = 'voc07' | 'area';

/** [xmin, ymin, xmax, ymax], 1-based inclusive pixel coordinates as in VOC XML. */
export type VocBox = [number, number, number, number];

export interface VocObject {
  name: string;
  bbox: VocBox;
  difficult?: boolean | number;
}

export interface VocImage {
  id: string;
  objects: VocObject[];
}

export interface VocDetection {
  image_id: string;
  /** Class name. */
  class: string;
  score: number;
  bbox: VocBox;
}

export interface VocEvalOptions {
  metric?: VocMetric;
  /** Classes to evaluate, in report order (default: every class in the GT or the detections). */
  classes?: readonly string[];
  /** Default 0.5; a hit needs IoU strictly greater. */
  iouThreshold?: number;
  /** Names the inputs in error messages. */
  gtSource?: string;
  dtSource?: string;
}

export interface VocClassResult {
  ap: number;
  /** Non-difficult objects (the recall denominator). */
  npos: number;
  detections: number;
  /** Recall and precision after each ranked detection (the raw curve, before the envelope). */
  recall: number[];
  precision: number[];
}

export interface VocSummary {
  metric: VocMetric;
  /** Mean AP over the evaluated classes (plain mean, as the reference). */
  mAP: number;
  /** AP per class; 0 for a class without non-difficult objects (the reference's 11-point value). */
  per_class: Record<string, number>;
  classes: string[];
  details: Record<string, VocClassResult>;
}

// One list of the 20 classes for the readers and the evaluator; re-exported for eval users.
export { VOC_CLASSES };

const EPS = 2.220446049250313e-16; // np.finfo(np.float64).eps

/** voc_ap: 11-point (use_07_metric) or area under the monotone envelope. */
export function vocAp(rec: ArrayLike<number>, prec: ArrayLike<number>, metric: VocMetric): number {
  const n = rec.length;
  if (metric === 'voc07') {
    let ap = 0;
    for (let i = 0; i <= 10; i++) {
      const t = i * 0.1; // np.arange(0., 1.1, 0.1)
      let p = 0;
      let any = false;
      for (let j = 0; j < n; j++) {
        if (rec[j] >= t) {
          if (!any || prec[j] > p) p = prec[j];
          any = true;
        }
      }
      ap = ap + (any ? p : 0) / 11;
    }
    return ap;
  }
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  for (let j = 0; j < n; j++) {
    mrec[j + 1] = rec[j];
    mpre[j + 1] = prec[j];
  }
  mrec[n + 1] = 1;
  for (let i = n + 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1], mpre[i]);
  let ap = 0;
  for (let i = 0; i < n + 1; i++) if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  return ap;
}

function checkBox(b: unknown, where: string): VocBox {
  if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v)))
    throw new ResdetError(
      `${where}: "bbox" must be [xmin, ymin, xmax, ymax] of 4 finite numbers, found ${JSON.stringify(b)}`,
    );
  if (b[2] < b[0] || b[3] < b[1])
    throw new ResdetError(
      `${where}: bbox ${JSON.stringify(b)} has ${b[2] < b[0] ? 'xmax < xmin' : 'ymax < ymin'} (negative size)`,
      'VOC boxes are [xmin, ymin, xmax, ymax] with inclusive 1-based corners',
    );
  return b as VocBox;
}

interface ClassGt {
  boxes: number[];
  difficult: boolean[];
  det: boolean[];
}

/**
 * Evaluates detections against VOC ground truth, both plain JSON. Throws a ResdetError naming
 * the record on bad input (unknown image, bad box, non-finite score).
 */
export function evaluateVoc(
  images: readonly VocImage[] | unknown,
  detections: readonly VocDetection[] | unknown,
  opts: VocEvalOptions = {},
): VocSummary {
  const gtSource = opts.gtSource ?? 'ground truth';
  const dtSource = opts.dtSource ?? 'detections';
  const metric = opts.metric ?? 'voc07';
  if (metric !== 'voc07' && metric !== 'area')
    throw new ResdetError(
      `unknown VOC metric "${metric as string}"`,
      'use voc07 (11-point) or area (VOC2010+)',
    );
  const thr = opts.iouThreshold ?? 0.5;
  if (!Array.isArray(images))
    throw new ResdetError(`${gtSource}: expected a list of images [{"id", "objects"}, ...]`);
  if (!Array.isArray(detections))
    throw new ResdetError(
      `${dtSource}: expected a list of detections [{"image_id", "class", "score", "bbox"}, ...]`,
    );

  const imageIds = new Set<string>();
  const gtNames = new Set<string>();
  const checked: VocImage[] = images.map((img: unknown, i: number) => {
    const where = `${gtSource}: images[${i}]`;
    if (img === null || typeof img !== 'object') throw new ResdetError(`${where}: expected an object`);
    const r = img as Record<string, unknown>;
    if (typeof r.id !== 'string' && typeof r.id !== 'number') throw new ResdetError(`${where}: missing "id"`);
    const id = String(r.id);
    if (imageIds.has(id)) throw new ResdetError(`${where}: duplicate image id "${id}"`);
    imageIds.add(id);
    if (!Array.isArray(r.objects)) throw new ResdetError(`${where} ("${id}"): "objects" must be a list`);
    const objects = r.objects.map((o: unknown, j: number) => {
      const ow = `${where} ("${id}") objects[${j}]`;
      if (o === null || typeof o !== 'object') throw new ResdetError(`${ow}: expected an object`);
      const or = o as Record<string, unknown>;
      if (typeof or.name !== 'string') throw new ResdetError(`${ow}: missing "name"`);
      gtNames.add(or.name);
      return { name: or.name, bbox: checkBox(or.bbox, ow), difficult: Boolean(or.difficult) };
    });
    return { id, objects };
  });

  const dets: VocDetection[] = detections.map((d: unknown, i: number) => {
    const where = `${dtSource}: [${i}]`;
    if (d === null || typeof d !== 'object') throw new ResdetError(`${where}: expected an object`);
    const r = d as Record<string, unknown>;
    if (typeof r.image_id !== 'string' && typeof r.image_id !== 'number')
      throw new ResdetError(`${where}: missing "image_id"`);
    const imageId = String(r.image_id);
    if (!imageIds.has(imageId))
      throw new ResdetError(`${where}: image "${imageId}" is not in the evaluated image set`);
    if (typeof r.class !== 'string') throw new ResdetError(`${where}: missing "class" (the class name)`);
    if (typeof r.score !== 'number' || !Number.isFinite(r.score))
      throw new ResdetError(
        `${where}: "score" must be a finite number, found ${JSON.stringify(r.score ?? null)}`,
      );
    return { image_id: imageId, class: r.class, score: r.score, bbox: checkBox(r.bbox, where) };
  });

  let classes: string[];
  if (opts.classes) classes = [...opts.classes];
  else {
    const names = new Set([...gtNames, ...dets.map((d) => d.class)]);
    classes = [
      ...VOC_CLASSES.filter((c) => names.has(c)),
      ...[...names].filter((c) => !VOC_CLASSES.includes(c)).sort(),
    ];
  }

  const byClass = new Map<string, VocDetection[]>(classes.map((c) => [c, []]));
  for (const d of dets) byClass.get(d.class)?.push(d);

  const per_class: Record<string, number> = {};
  const details: Record<string, VocClassResult> = {};
  let sum = 0;
  let counted = 0;
  for (const cls of classes) {
    const gt = new Map<string, ClassGt>();
    let npos = 0;
    for (const img of checked) {
      const rec: ClassGt = { boxes: [], difficult: [], det: [] };
      for (const o of img.objects) {
        if (o.name !== cls) continue;
        rec.boxes.push(...o.bbox);
        rec.difficult.push(Boolean(o.difficult));
        rec.det.push(false);
        if (!o.difficult) npos++;
      }
      gt.set(img.id, rec);
    }
    const cd = byClass.get(cls) ?? [];
    // np.argsort(-confidence): descending; stable here (the reference's quicksort is not).
    const order = cd.map((_, i) => i).sort((a, b) => cd[b].score - cd[a].score || a - b);
    const nd = order.length;
    const recall: number[] = new Array(nd);
    const precision: number[] = new Array(nd);
    let tp = 0;
    let fp = 0;
    for (let k = 0; k < nd; k++) {
      const d = cd[order[k]];
      const R = gt.get(d.image_id) as ClassGt;
      const [bx1, by1, bx2, by2] = d.bbox;
      let ovmax = Number.NEGATIVE_INFINITY;
      let jmax = -1;
      const ng = R.det.length;
      for (let j = 0; j < ng; j++) {
        const gx1 = R.boxes[j * 4];
        const gy1 = R.boxes[j * 4 + 1];
        const gx2 = R.boxes[j * 4 + 2];
        const gy2 = R.boxes[j * 4 + 3];
        const iw = Math.max(Math.min(gx2, bx2) - Math.max(gx1, bx1) + 1, 0);
        const ih = Math.max(Math.min(gy2, by2) - Math.max(gy1, by1) + 1, 0);
        const inters = iw * ih;
        const uni = (bx2 - bx1 + 1) * (by2 - by1 + 1) + (gx2 - gx1 + 1) * (gy2 - gy1 + 1) - inters;
        const ov = inters / uni;
        if (ov > ovmax) {
          ovmax = ov; // np.argmax: the first maximum
          jmax = j;
        }
      }
      if (ovmax > thr) {
        if (!R.difficult[jmax]) {
          if (!R.det[jmax]) {
            tp++;
            R.det[jmax] = true;
          } else fp++;
        }
      } else fp++;
      recall[k] = tp / npos;
      precision[k] = tp / Math.max(tp + fp, EPS);
    }
    // Without positives the reference's recall is 0/0: its 11-point AP comes out 0 (and its
    // area AP NaN); we report 0 for both and, like the reference, count the class in the mAP.
    const ap = npos > 0 ? vocAp(recall, precision, metric) : 0;
    per_class[cls] = ap;
    details[cls] = { ap, npos, detections: nd, recall, precision };
    sum += ap;
    counted++;
  }
  return { metric, mAP: counted > 0 ? sum / counted : 0, per_class, classes, details };
}
