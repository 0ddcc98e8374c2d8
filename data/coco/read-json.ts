/**
 * Reads a JSON document from disk: small files with one JSON.parse, large ones through the
 * streaming tokenizer so no giant string is built.
 */
import { readFileSync, statSync } from 'node:fs';
import { ResdetError } from '../../core/errors.js';
import { streamJsonFile } from './json-stream.js';

export interface ReadJsonOptions {
  /** Files at least this large are streamed (default 64 MiB). */
  streamThreshold?: number;
  /** Chunk size for the streaming path (default 1 MiB). */
  chunkSize?: number;
  /** Fields to delete from every streamed array element (e.g. 'segmentation', to save memory). */
  dropFields?: readonly string[];
  /**
   * Fields to replace in every array element of the document (top-level array or array member)
   * by what the function returns: e.g. polygons as Float64Array instead of number arrays.
   */
  mapFields?: Readonly<Record<string, (value: unknown) => unknown>>;
}

function mapElement(value: unknown, map: Readonly<Record<string, (value: unknown) => unknown>>): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const rec = value as Record<string, unknown>;
  for (const [field, fn] of Object.entries(map)) if (rec[field] !== undefined) rec[field] = fn(rec[field]);
}

function mapDocument(doc: unknown, map: Readonly<Record<string, (value: unknown) => unknown>>): unknown {
  const arrays = Array.isArray(doc)
    ? [doc]
    : doc !== null && typeof doc === 'object'
      ? Object.values(doc).filter(Array.isArray)
      : [];
  for (const arr of arrays) for (const el of arr) mapElement(el, map);
  return doc;
}

export const DEFAULT_STREAM_THRESHOLD = 64 * 1024 * 1024;

/** A bare NaN / Infinity / -Infinity in value position. */
const NON_FINITE = /(?<=[:,[]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g;

function fileSize(path: string): number {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ResdetError(
      code === 'ENOENT' ? `${path}: no such file` : `cannot read ${path}: ${(err as Error).message}`,
    );
  }
  if (stats.isDirectory())
    throw new ResdetError(`${path}: is a directory, not a JSON file`, 'give the .json file itself');
  return stats.size;
}

/** JSON.parse quotes the text near the error: keep a binary file's bytes off the terminal. */
function printable(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return message.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]+/g, '?');
}

/** Returns the document: an array, or an object whose array members were streamed element by element. */
export async function readJsonDocument(path: string, opts: ReadJsonOptions = {}): Promise<unknown> {
  const size = fileSize(path);
  if (size < (opts.streamThreshold ?? DEFAULT_STREAM_THRESHOLD)) {
    const text = readFileSync(path, 'utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      // Python's json module writes float('nan') as a bare NaN: turn those into strings so the
      // record checks can name the record that holds one.
      if (/NaN|Infinity/.test(text)) {
        try {
          doc = JSON.parse(text.replace(NON_FINITE, '"$1"'));
        } catch {
          // fall through to the original message
        }
      }
      if (doc === undefined)
        throw new ResdetError(
          `${path}: malformed JSON: ${printable((err as Error).message)}`,
          'check that the file is complete (not truncated) and valid JSON',
        );
    }
    return opts.mapFields ? mapDocument(doc, opts.mapFields) : doc;
  }
  const map = opts.mapFields;
  const drop = opts.dropFields ?? [];
  let root: unknown[] | Record<string, unknown> | undefined;
  let current: unknown[] = [];
  await streamJsonFile(
    path,
    {
      onArrayStart(key) {
        current = [];
        if (key === null) root = current;
        else {
          root ??= {};
          (root as Record<string, unknown>)[key] = current;
        }
      },
      onElement(_key, value) {
        if (drop.length > 0 && value !== null && typeof value === 'object') {
          for (const f of drop) delete (value as Record<string, unknown>)[f];
        }
        if (map) mapElement(value, map);
        current.push(value);
      },
      onValue(key, value) {
        root ??= {};
        (root as Record<string, unknown>)[key] = value;
      },
    },
    { chunkSize: opts.chunkSize },
  );
  return root ?? {};
}
