import { XMLParser } from 'fast-xml-parser';
import { ResdetError } from '../../core/errors.js';
import { readTextFile } from './read-text.js';

/**
 * The one reader of PASCAL VOC annotation XML. Coordinates come back exactly as written (VOC's
 * 1-based inclusive pixel indices, not rounded): the dataset converts them to resdet's boxes and
 * the evaluator truncates them as the devkit's int() does, each where it needs to.
 *
 * - `strict` (the evaluator): any malformed object is an error naming the file and the object;
 * - `lenient` (the dataset opener): only an unreadable file is an error; an object without a name
 *   or a usable box comes back as it is (empty name, NaN coordinates) so that the dataset can
 *   report and skip that one object and keep the rest of the image.
 */
export type VocParseMode = 'strict' | 'lenient';

/** [xmin, ymin, xmax, ymax] as written in the XML (1-based, inclusive). */
export type VocXmlBox = [number, number, number, number];

export interface VocXmlObject {
  /** Trimmed class name ('' when missing, lenient mode only). */
  name: string;
  box: VocXmlBox;
  difficult: boolean;
  /** resdet's own `<crowd>1</crowd>` extension (COCO sets written in VOC layout). */
  crowd: boolean;
}

export interface VocXmlAnnotation {
  filename?: string;
  /** `<size>`; NaN when missing or not a number. */
  width: number;
  height: number;
  objects: VocXmlObject[];
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (_name, jpath) => jpath === 'annotation.object',
});

function flag(raw: unknown): boolean {
  return raw !== undefined && Number(String(raw).trim()) === 1;
}

function strictCoord(raw: unknown, file: string, index: number, field: string): number {
  const v = Number(typeof raw === 'string' ? raw.trim() : raw);
  if (raw === undefined || !Number.isFinite(v))
    throw new ResdetError(
      `${file}: object ${index}: bndbox ${field} is ${raw === undefined ? 'missing' : `"${String(raw)}"`}`,
    );
  return v;
}

function parseObject(entry: unknown, i: number, file: string, mode: VocParseMode): VocXmlObject {
  const strict = mode === 'strict';
  if (entry === null || typeof entry !== 'object') {
    // A truncated file ("<annotation><object>") parses to a lone "" instead of an object.
    if (strict) throw new ResdetError(`${file}: object ${i}: empty or malformed <object> (truncated file?)`);
    return {
      name: '',
      box: [Number.NaN, Number.NaN, Number.NaN, Number.NaN],
      difficult: false,
      crowd: false,
    };
  }
  const o = entry as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name.trim() : '';
  if (strict && name === '') throw new ResdetError(`${file}: object ${i}: missing <name>`);
  const bb = o.bndbox as Record<string, unknown> | undefined;
  const hasBox = !!bb && typeof bb === 'object';
  if (strict && !hasBox) throw new ResdetError(`${file}: object ${i} (${name}): missing <bndbox>`);
  const b = (hasBox ? bb : {}) as Record<string, unknown>;
  const fields = ['xmin', 'ymin', 'xmax', 'ymax'] as const;
  const box = fields.map((f) =>
    strict ? strictCoord(b[f], file, i, f) : b[f] === undefined ? Number.NaN : Number(b[f]),
  ) as VocXmlBox;
  return { name, box, difficult: flag(o.difficult), crowd: flag(o.crowd) };
}

/** Parses annotation XML text; `file` names it in errors. */
export function parseVocXml(text: string, file: string, mode: VocParseMode): VocXmlAnnotation {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ResdetError(`${file}: malformed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const ann = doc.annotation as Record<string, unknown> | undefined;
  if (!ann || typeof ann !== 'object') throw new ResdetError(`${file}: no <annotation> element`);
  const raw = ann.object;
  const entries = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as unknown[];
  const size = (ann.size ?? {}) as Record<string, unknown>;
  return {
    filename: typeof ann.filename === 'string' ? ann.filename : undefined,
    width: size.width === undefined ? Number.NaN : Number(size.width),
    height: size.height === undefined ? Number.NaN : Number(size.height),
    objects: entries.map((e, i) => parseObject(e, i, file, mode)),
  };
}

/** parseVocXml of a file; a missing or unreadable file is an error naming it. */
export function readVocXmlFile(path: string, mode: VocParseMode): VocXmlAnnotation {
  return parseVocXml(readTextFile(path, 'annotation'), path, mode);
}
