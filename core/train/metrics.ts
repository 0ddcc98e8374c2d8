import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { ResdetError } from '../errors.js';

/** The file every training run writes its records to, one JSON object a line. */
export const METRICS_FILE = 'metrics.jsonl';

/** One metrics.jsonl record: `type` (train, eval, epoch) and the iteration it describes. */
export interface MetricsRecord {
  type?: string;
  iteration?: number;
  [key: string]: unknown;
}

/** A run directory stands for its metrics.jsonl. */
export function metricsPath(given: string): string {
  return existsSync(given) && statSync(given).isDirectory() ? join(given, METRICS_FILE) : given;
}

/** The kind of run a metrics file comes from: detector records carry the four losses' `total`. */
export function runKind(records: readonly MetricsRecord[]): 'detector' | 'classifier' | undefined {
  const train = records.find((r) => r.type === 'train');
  if (!train) return records.some((r) => r.type === 'eval' && 'top1Error' in r) ? 'classifier' : undefined;
  return typeof train.total === 'number' ? 'detector' : 'classifier';
}

/**
 * Reads a metrics.jsonl. A last line that is not JSON was cut short by a kill and is skipped; a
 * bad line anywhere else means the file is not a metrics file, and is an error naming the line.
 */
export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) {
    throw new ResdetError(`${path}: metrics file not found`, 'give DIR/metrics.jsonl of a training run');
  }
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length > 0 && !lines[lines.length - 1].trim()) lines.pop();
  const out: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return;
      throw new ResdetError(
        `${path}:${i + 1}: not a JSON line`,
        'give the metrics.jsonl a training run wrote',
      );
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ResdetError(
        `${path}:${i + 1}: not a JSON object`,
        'give the metrics.jsonl a training run wrote',
      );
    }
    out.push(record as MetricsRecord);
  });
  return out;
}

/** Appends records to a run's metrics.jsonl, each stamped with the wall-clock time. */
export class MetricsLog {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
  }

  write(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }

  /**
   * Drops the records past `iteration` (and a line cut short by a kill): a resumed run does the
   * iterations after its checkpoint again, and writes their records again.
   */
  truncateAfter(iteration: number): void {
    if (!existsSync(this.path)) return;
    const kept = readMetrics(this.path).filter((r) => r.iteration === undefined || r.iteration <= iteration);
    writeFileAtomic(this.path, [kept.map((r) => `${JSON.stringify(r)}\n`).join('')]);
  }
}
