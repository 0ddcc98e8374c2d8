/**
 * Field checks for COCO records. Every failure names the file, the record (array and index, and
 * its id when it has one) and the problem, because a bad record in an 860k-annotation file is
 * otherwise impossible to find.
 */
import { ResdetError } from '../../core/errors.js';
import type { CocoBox } from './types.js';

export class RecordRef {
  constructor(
    readonly source: string,
    readonly array: string,
    readonly index: number,
    readonly id?: unknown,
  ) {}

  toString(): string {
    const id = this.id === undefined ? '' : ` (id ${JSON.stringify(this.id)})`;
    return `${this.source}: ${this.array}[${this.index}]${id}`;
  }

  fail(problem: string, hint?: string): never {
    throw new ResdetError(`${this}: ${problem}`, hint);
  }
}

export function asRecord(value: unknown, ref: RecordRef): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    ref.fail(
      `expected an object, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  return value as Record<string, unknown>;
}

export function requireNumber(rec: Record<string, unknown>, field: string, ref: RecordRef): number {
  const v = rec[field];
  if (v === undefined) ref.fail(`missing field "${field}"`);
  if (typeof v !== 'number') ref.fail(`"${field}" must be a number, found ${JSON.stringify(v)}`);
  if (!Number.isFinite(v)) ref.fail(`"${field}" is not a finite number`);
  return v;
}

export function requireId(rec: Record<string, unknown>, field: string, ref: RecordRef): number {
  const v = requireNumber(rec, field, ref);
  if (!Number.isInteger(v)) ref.fail(`"${field}" must be an integer, found ${v}`);
  return v;
}

/**
 * A bbox [x, y, w, h] of finite numbers with positive width and height (or, for ground truth,
 * `allowEmpty`: width and height >= 0, as the box of a mask that covers no pixel is [0, 0, 0, 0]).
 */
export function requireBox(rec: Record<string, unknown>, ref: RecordRef, allowEmpty = false): CocoBox {
  const b = rec.bbox;
  if (b === undefined) ref.fail('missing field "bbox"');
  if (!Array.isArray(b) || b.length !== 4)
    ref.fail(`"bbox" must be [x, y, width, height], found ${JSON.stringify(b)}`);
  for (let i = 0; i < 4; i++) {
    if (typeof b[i] !== 'number' || !Number.isFinite(b[i]))
      ref.fail(`"bbox" must hold 4 finite numbers, found ${JSON.stringify(b)}`);
  }
  if (allowEmpty ? b[2] < 0 || b[3] < 0 : b[2] <= 0 || b[3] <= 0)
    ref.fail(
      `bbox ${JSON.stringify(b)} has ${(allowEmpty ? b[2] < 0 : b[2] <= 0) ? `width ${b[2]}` : `height ${b[3]}`}; width and height must be ${allowEmpty ? '>= 0' : '> 0'}`,
      'COCO boxes are [x, y, width, height], not [x1, y1, x2, y2]',
    );
  return b as CocoBox;
}
