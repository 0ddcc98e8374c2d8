import { readFileSync } from 'node:fs';
import { ResdetError } from '../../core/errors.js';

/** A text file, or an error naming it and `what` it should have been (ENOENT: "does not exist"). */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ResdetError(
      code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${path}: ${(err as Error).message}`,
    );
  }
}
