import { ResdetError } from '../core/errors.js';

/**
 * An error that becomes one HTTP response: status, a stable machine-readable code, a message for a
 * person and optional extra headers (Retry-After). Messages are written for the client; nothing
 * internal (paths, stacks) goes into them.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint?: string;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { hint?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.hint = opts.hint;
    this.headers = opts.headers ?? {};
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { status: number; code: string; message: string; hint?: string };
}

interface MulterLikeError {
  name: string;
  code: string;
  field?: string;
}

interface BodyParserLikeError {
  type: string;
  status?: number;
  limit?: number;
}

function isMulterError(err: unknown): err is MulterLikeError {
  return (
    err instanceof Error && err.name === 'MulterError' && typeof (err as { code?: unknown }).code === 'string'
  );
}

function isBodyParserError(err: unknown): err is BodyParserLikeError {
  return err instanceof Error && typeof (err as { type?: unknown }).type === 'string';
}

/**
 * Maps anything thrown while serving a request to an HttpError. Unknown errors become a bare 500:
 * their details go to the server's log, never to the client.
 */
export function toHttpError(err: unknown, maxBodyBytes: number): HttpError {
  if (err instanceof HttpError) return err;
  if (isMulterError(err)) {
    if (err.code === 'LIMIT_FILE_SIZE') return tooLarge(maxBodyBytes);
    if (err.code === 'LIMIT_UNEXPECTED_FILE')
      return new HttpError(400, 'bad_multipart', `unexpected file field "${err.field ?? ''}"`, {
        hint: 'send exactly one file, in the field named "image"',
      });
    return new HttpError(
      400,
      'bad_multipart',
      `multipart body refused: ${err.code.toLowerCase().replaceAll('_', ' ')}`,
    );
  }
  if (isBodyParserError(err)) {
    if (err.type === 'entity.too.large') return tooLarge(maxBodyBytes);
    if (err.type === 'entity.parse.failed')
      return new HttpError(400, 'bad_json', 'the request body is not valid JSON');
    if (err.type === 'request.aborted') return new HttpError(400, 'aborted', 'the request was aborted');
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported')
      return new HttpError(415, 'unsupported_encoding', 'unsupported content encoding or charset');
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500)
      return new HttpError(err.status, 'bad_request', 'the request body could not be read');
  }
  // Errors raised by the evaluation library on bad input are the client's to fix.
  if (err instanceof ResdetError) return new HttpError(400, 'bad_input', err.message, { hint: err.hint });
  if (
    err instanceof Error &&
    /multipart: boundary not found|unexpected end of form|malformed part header/i.test(err.message)
  )
    return new HttpError(400, 'bad_multipart', `malformed multipart body (${err.message})`);
  return new HttpError(500, 'internal', 'internal server error');
}

export function tooLarge(maxBodyBytes: number): HttpError {
  return new HttpError(
    413,
    'payload_too_large',
    `request body exceeds the limit of ${formatBytes(maxBodyBytes)}`,
    {
      hint: 'send a smaller image (or start the server with a larger --max-body)',
    },
  );
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export function errorBody(err: HttpError): ErrorBody {
  const error: ErrorBody['error'] = { status: err.status, code: err.code, message: err.message };
  if (err.hint) error.hint = err.hint;
  return { error };
}
