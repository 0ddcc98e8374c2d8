/**
 * Reading VOC evaluation inputs from disk: annotation XML, image-set lists, the devkit's
 * per-class result files (`<image_id> <score> <xmin> <ymin> <xmax> <ymax>`) and COCO-style JSON
 * result lists. Errors name the file and the line or record.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import { readTextFile } from '../../data/formats/read-text.js';
import { readVocXmlFile } from '../../data/formats/voc-xml.js';
import type { VocBox, VocDetection, VocImage, VocObject } from './voc.js';

export { readImageSet } from '../../data/formats/image-set.js';

/**
 * Objects of one annotation XML file as the devkit's parse_rec reads them: the strict parse,
 * coordinates truncated as its int() (VOC XML holds integers), boxes of negative size refused.
 */
export function readVocXml(path: string): VocObject[] {
  return readVocXmlFile(path, 'strict').objects.map((o, i) => {
    const bbox = o.box.map(Math.trunc) as VocBox;
    if (bbox[2] < bbox[0] || bbox[3] < bbox[1])
      throw new ResdetError(
        `${path}: object ${i} (${o.name}): bndbox ${JSON.stringify(bbox)} has negative size`,
      );
    return { name: o.name, bbox, difficult: o.difficult };
  });
}

/** Ground truth for the listed images from a directory of `<id>.xml`. */
export function readVocGroundTruth(annotationsDir: string, imageIds: readonly string[]): VocImage[] {
  return imageIds.map((id) => ({ id, objects: readVocXml(join(annotationsDir, `${id}.xml`)) }));
}

/** The result file of one class, given a pattern with `{cls}` (or the devkit's `%s`). */
export function vocResultPath(pattern: string, cls: string): string {
  return pattern.includes('{cls}') ? pattern.replaceAll('{cls}', cls) : pattern.replace('%s', cls);
}

/** One devkit result file: `<image_id> <score> <xmin> <ymin> <xmax> <ymax>` per line. */
export function readVocResultFile(path: string, cls: string): VocDetection[] {
  const out: VocDetection[] = [];
  readTextFile(path, 'result file')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const parts = line.trim().split(/\s+/);
      if (parts.length === 1 && parts[0] === '') return;
      const where = `${path}:${i + 1}`;
      if (parts.length !== 6)
        throw new ResdetError(
          `${where}: expected "<image_id> <score> <xmin> <ymin> <xmax> <ymax>", found "${line.trim()}"`,
        );
      const nums = parts.slice(1).map(Number);
      if (!Number.isFinite(nums[0]))
        throw new ResdetError(`${where}: score "${parts[1]}" is not a finite number`);
      if (!nums.slice(1).every(Number.isFinite))
        throw new ResdetError(`${where}: box "${parts.slice(2).join(' ')}" is not 4 numbers`);
      out.push({ image_id: parts[0], class: cls, score: nums[0], bbox: nums.slice(1) as VocBox });
    });
  return out;
}

/**
 * Detections from per-class files; classes without a file are skipped (the caller reports them).
 * Returns the detections and the classes that had a file.
 */
export function readVocResultFiles(
  pattern: string,
  candidates: readonly string[],
): { detections: VocDetection[]; classes: string[]; where: Map<string, string> } {
  const detections: VocDetection[] = [];
  const classes: string[] = [];
  const where = new Map<string, string>();
  for (const cls of candidates) {
    const path = vocResultPath(pattern, cls);
    if (!existsSync(path)) continue;
    classes.push(cls);
    where.set(cls, path);
    detections.push(...readVocResultFile(path, cls));
  }
  return { detections, classes, where };
}

/**
 * A COCO-style results list: `{image_id, category_id | category | class, bbox: [x, y, w, h],
 * score}` with 0-based continuous coordinates, converted to VOC corners the way detectron2
 * writes devkit files (xmin = x + 1, ymin = y + 1, xmax = x + w, ymax = y + h). A numeric
 * category_id is a 1-based index into `classes`; a string one is the class name.
 */
export function vocDetectionsFromCocoJson(
  json: unknown,
  classes: readonly string[],
  imageIds: readonly string[],
  source: string,
): VocDetection[] {
  if (!Array.isArray(json))
    throw new ResdetError(`${source}: expected a JSON list of {image_id, category_id, bbox, score}`);
  const ids = new Set(imageIds);
  return json.map((r: unknown, i: number) => {
    const where = `${source}: [${i}]`;
    if (r === null || typeof r !== 'object') throw new ResdetError(`${where}: expected an object`);
    const rec = r as Record<string, unknown>;
    const catRaw = rec.category_id ?? rec.category ?? rec.class;
    let cls: string;
    if (typeof catRaw === 'string') cls = catRaw;
    else if (
      typeof catRaw === 'number' &&
      Number.isInteger(catRaw) &&
      catRaw >= 1 &&
      catRaw <= classes.length
    )
      cls = classes[catRaw - 1];
    else
      throw new ResdetError(
        `${where}: category ${JSON.stringify(catRaw ?? null)} is not a class name or a 1-based class index (1..${classes.length})`,
      );
    let imageId = rec.image_id;
    if (typeof imageId === 'number') {
      const s = String(imageId);
      imageId = ids.has(s) ? s : s.padStart(6, '0');
    }
    const b = rec.bbox;
    if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new ResdetError(
        `${where}: "bbox" must be [x, y, width, height] of 4 finite numbers, found ${JSON.stringify(b)}`,
      );
    if (b[2] <= 0 || b[3] <= 0)
      throw new ResdetError(`${where}: bbox ${JSON.stringify(b)} has zero or negative size`);
    return {
      image_id: imageId as string,
      class: cls,
      score: rec.score as number,
      bbox: [b[0] + 1, b[1] + 1, b[0] + b[2], b[1] + b[3]] as VocBox,
    };
  });
}
