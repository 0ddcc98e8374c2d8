import { ResdetError } from '../../core/errors.js';
import type { DataProblem } from './types.js';

/** How many problems an error message lists before saying "and N more". */
const LISTED = 20;

export function formatProblem(p: Pick<DataProblem, 'file' | 'record' | 'message'>): string {
  return `${p.file}: ${p.record}: ${p.message}`;
}

/**
 * The error raised when a dataset has bad records and skipBad is off: it lists them (file, record,
 * problem) so they can be fixed, and says how to go on without them.
 */
export function badDataError(name: string, problems: readonly DataProblem[]): ResdetError {
  const lines = problems.slice(0, LISTED).map((p) => `  ${formatProblem(p)}`);
  if (problems.length > LISTED) lines.push(`  ... and ${problems.length - LISTED} more`);
  const kinds = new Map<string, number>();
  for (const p of problems) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  const summary = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
  return new ResdetError(
    `${name}: ${problems.length} bad record(s) (${summary}):\n${lines.join('\n')}`,
    'fix these records, or pass --skip-bad to leave them out (they are counted and reported)',
  );
}
