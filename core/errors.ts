/**
 * Errors a user can act on. The CLI prints `message` (and `hint` when present) without a stack
 * trace; exit code 1 for ResdetError, 2 for UsageError.
 */
export class ResdetError extends Error {
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'ResdetError';
    this.hint = hint;
  }
}

/** A command line that cannot be carried out as written (bad flag value, missing argument). */
export class UsageError extends ResdetError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'UsageError';
  }
}

/** Node's file and socket errors a person meets, as [what is wrong, what to do]. */
const SYSTEM_ERRORS: Record<string, readonly [string, string]> = {
  ENOENT: ['no such file or directory', 'check the path'],
  ENOTDIR: ['part of the path is a file, not a directory', 'choose a path inside a directory'],
  EEXIST: ['a file is in the way where a directory is needed', 'choose another path, or move that file'],
  EISDIR: ['is a directory, not a file', 'give a file path'],
  EACCES: ['permission denied', 'choose a location you may write to, or fix its permissions'],
  EPERM: ['operation not permitted', 'choose a location you may write to, or fix its permissions'],
  EROFS: ['read-only file system', 'choose a writable location'],
  ENOSPC: ['no space left on the device', 'free some space or write to another disk'],
  EADDRINUSE: [
    'address already in use',
    'another process listens there: choose another --port (0 picks a free one)',
  ],
  EADDRNOTAVAIL: [
    'address not available on this machine',
    'listen on 127.0.0.1, 0.0.0.0 or an address of this machine',
  ],
  ENOTFOUND: ['host name not found', 'check --host'],
};

interface SystemError extends Error {
  code?: unknown;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

/**
 * A Node system error as "cannot mkdir /a/b: part of the path is a file ..." plus a hint, naming
 * the path the user gave (a rename's destination, not the temp file) instead of Node's errno text.
 */
function describeSystemError(err: SystemError): string | undefined {
  const known =
    err.code === 'EEXIST' && err.syscall !== 'mkdir'
      ? (['already exists', 'choose another path, or remove it'] as const)
      : typeof err.code === 'string'
        ? SYSTEM_ERRORS[err.code]
        : undefined;
  if (!known) return undefined;
  const subject =
    err.dest ??
    err.path ??
    (err.address !== undefined
      ? `${err.address}${err.port !== undefined ? `:${err.port}` : ''}`
      : err.hostname);
  if (subject === undefined) return undefined;
  const what = err.syscall
    ? `cannot ${err.syscall.replace(/^getaddrinfo$/, 'resolve').replace(/^rename$/, 'write')} ${subject}`
    : subject;
  return `${what}: ${known[0]} (${err.code})\n  hint: ${known[1]}`;
}

/** Formats any thrown value as one or two lines for a person. */
export function describeError(err: unknown): string {
  if (err instanceof ResdetError) return err.hint ? `${err.message}\n  hint: ${err.hint}` : err.message;
  if (err instanceof Error) return describeSystemError(err) ?? err.message;
  return String(err);
}
