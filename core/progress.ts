export interface ProgressOptions {
  total: number;
  label?: string;
  /** What one unit is, for the rate ("img", "it", "MB"). */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when the stream is not a terminal. */
  plainEverySeconds?: number;
  /** Suppress all output (for --json runs and tests). */
  silent?: boolean;
  /** Units already done (a resumed run). */
  start?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function formatRate(rate: number): string {
  if (rate >= 100) return rate.toFixed(0);
  if (rate >= 10) return rate.toFixed(1);
  return rate.toFixed(2);
}

/**
 * A progress bar with rate and ETA on a terminal; on a pipe or log file, one plain line every
 * few seconds instead of carriage-return redraws that would fill the log.
 */
export class Progress {
  private totalUnits: number;
  private done: number;
  private readonly startDone: number;
  private readonly label: string;
  private readonly unit: string;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly silent: boolean;
  private readonly plainEvery: number;
  private readonly startTime = performance.now();
  private lastDraw = 0;
  private extra = '';
  private finished = false;

  constructor(opts: ProgressOptions) {
    this.totalUnits = Math.max(0, opts.total);
    this.done = opts.start ?? 0;
    this.startDone = this.done;
    this.label = opts.label ?? '';
    this.unit = opts.unit ?? 'it';
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.silent = Boolean(opts.silent);
    this.plainEvery = (opts.plainEverySeconds ?? 10) * 1000;
  }

  get total(): number {
    return this.totalUnits;
  }

  /** Changes the goal mid-run (a run re-fitted to its time budget) without restarting the clock. */
  setTotal(total: number): void {
    this.totalUnits = Math.max(0, total);
    this.done = Math.min(this.done, this.totalUnits);
  }

  /** Units per second since this bar started (excluding units done before a resume). */
  rate(): number {
    const elapsed = (performance.now() - this.startTime) / 1000;
    return elapsed > 0 ? (this.done - this.startDone) / elapsed : 0;
  }

  eta(): number {
    const r = this.rate();
    return r > 0 ? (this.total - this.done) / r : Number.POSITIVE_INFINITY;
  }

  /** Advances by `n` units; `info` (e.g. {loss: 0.4}) is shown after the rate. */
  tick(n = 1, info?: Record<string, number | string>): void {
    this.done = Math.min(this.total, this.done + n);
    if (info) {
      this.extra = Object.entries(info)
        .map(([k, v]) => `${k} ${typeof v === 'number' ? formatMetric(v) : v}`)
        .join(' ');
    }
    this.draw(false);
  }

  /** Writes a line above the bar without breaking it. */
  log(line: string): void {
    if (this.silent) return;
    if (this.tty) this.stream.write('\r\x1b[K');
    this.stream.write(`${line}\n`);
    this.draw(true);
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.draw(true);
    if (!this.silent && this.tty) this.stream.write('\n');
  }

  line(): string {
    const frac = this.total > 0 ? this.done / this.total : 1;
    const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
    const elapsed = (performance.now() - this.startTime) / 1000;
    const parts = [
      this.label,
      this.tty ? `[${'#'.repeat(Math.round(frac * 24)).padEnd(24, '.')}]` : '',
      pct,
      `${this.done}/${this.total}`,
      `${formatRate(this.rate())} ${this.unit}/s`,
      `elapsed ${formatDuration(elapsed)}`,
      `eta ${formatDuration(this.eta())}`,
      this.extra,
    ];
    return parts.filter((p) => p.length > 0).join(' ');
  }

  private draw(force: boolean): void {
    if (this.silent) return;
    const now = performance.now();
    const complete = this.done >= this.total;
    if (this.tty) {
      if (!force && !complete && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[K${this.line()}`);
    } else {
      if (!force && !complete && now - this.lastDraw < this.plainEvery) return;
      if (complete && this.finished === false && !force) this.finished = true;
      this.lastDraw = now;
      this.stream.write(`${this.line()}\n`);
    }
  }
}

function formatMetric(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toFixed(4);
}
