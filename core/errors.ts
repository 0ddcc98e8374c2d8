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

/** Formats any thrown value as one or two lines for a person. */
export function describeError(err: unknown): string {
  if (err instanceof ResdetError) return err.hint ? `${err.message}\n  hint: ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
