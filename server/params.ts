import type { Request } from 'express';
import { HttpError } from './http-error.js';

/** Query parameters, validated: a bad value is a 400 naming the parameter and the accepted range. */

function single(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw new HttpError(
      400,
      'bad_parameter',
      `query parameter "${name}" must be given once, as a plain value`,
    );
  return v;
}

export function intParam(req: Request, name: string, dflt: number, min: number, max: number): number {
  const raw = single(req, name);
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new HttpError(
      400,
      'bad_parameter',
      `${name}: expected an integer from ${min} to ${max}, got "${raw}"`,
    );
  return n;
}

export function floatParam(req: Request, name: string, dflt: number, min: number, max: number): number {
  const raw = single(req, name);
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new HttpError(
      400,
      'bad_parameter',
      `${name}: expected a number from ${min} to ${max}, got "${raw}"`,
    );
  return n;
}

export function enumParam<T extends string>(req: Request, name: string, dflt: T, allowed: readonly T[]): T {
  const raw = single(req, name);
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw))
    throw new HttpError(400, 'bad_parameter', `${name}: expected one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** An image id for the coco/voc formats: digits become a number (COCO ids are integers). */
export function imageIdParam(req: Request): string {
  const raw = single(req, 'image_id');
  if (raw === undefined || raw === '') return '0';
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(raw))
    throw new HttpError(
      400,
      'bad_parameter',
      `image_id: expected 1-128 letters, digits, "_", "-" or ".", got "${raw}"`,
    );
  return raw;
}
