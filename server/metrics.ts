/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Written here rather than pulled in as a dependency because
 * the server needs only these three types.
 */

type Labels = Record<string, string>;

function escapeLabelValue(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabelValue(labels[k])}"`)
    .join(',');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

interface Metric {
  readonly name: string;
  render(): string[];
}

function header(name: string, help: string, type: string): string[] {
  return [
    `# HELP ${name} ${help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`,
    `# TYPE ${name} ${type}`,
  ];
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    const lines = header(this.name, this.help, 'counter');
    for (const [key, v] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${formatValue(v)}`);
    return lines;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  private readonly collectors: Array<() => void> = [];
  constructor(
    readonly name: string,
    private readonly help: string,
    collect?: (gauge: Gauge) => void,
  ) {
    if (collect) this.collectors.push(() => collect(this));
  }

  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }

  render(): string[] {
    for (const c of this.collectors) c();
    const lines = header(this.name, this.help, 'gauge');
    for (const [key, v] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${formatValue(v)}`);
    return lines;
  }
}

interface HistogramSeries {
  labels: string;
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  private readonly series = new Map<string, HistogramSeries>();
  readonly buckets: readonly number[];
  constructor(
    readonly name: string,
    private readonly help: string,
    buckets: readonly number[],
  ) {
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: key, counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** Observations so far for these labels (for tests). */
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }

  render(): string[] {
    const lines = header(this.name, this.help, 'histogram');
    for (const s of this.series.values()) {
      const sep = s.labels ? ',' : '';
      for (let i = 0; i < this.buckets.length; i++)
        lines.push(
          `${this.name}_bucket{${s.labels}${sep}le="${formatValue(this.buckets[i])}"} ${s.counts[i]}`,
        );
      lines.push(`${this.name}_bucket{${s.labels}${sep}le="+Inf"} ${s.count}`);
      const suffix = s.labels ? `{${s.labels}}` : '';
      lines.push(`${this.name}_sum${suffix} ${formatValue(s.sum)}`);
      lines.push(`${this.name}_count${suffix} ${s.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name))
      throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return `${this.metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Latency buckets in seconds: 5 ms to 60 s, roughly x2.5 apart. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The server's metrics, one set per app. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter;
  readonly requestSeconds: Histogram;
  readonly inferenceSeconds: Histogram;
  readonly queueDepth: Gauge;
  readonly inflight: Gauge;
  readonly rejected: Counter;
  readonly timeouts: Counter;

  constructor(sample: { queueDepth: () => number; active: () => number }) {
    const r = this.registry;
    this.requests = r.register(
      new Counter('resdet_http_requests_total', 'HTTP requests answered, by method, route and status code.'),
    );
    this.requestSeconds = r.register(
      new Histogram(
        'resdet_http_request_duration_seconds',
        'Time from request start to response end, by method and route.',
        LATENCY_BUCKETS,
      ),
    );
    this.inferenceSeconds = r.register(
      new Histogram(
        'resdet_inference_duration_seconds',
        'Model time per image (decode excluded), by model (detector, classifier).',
        LATENCY_BUCKETS,
      ),
    );
    this.queueDepth = r.register(
      new Gauge('resdet_queue_depth', 'Inference jobs waiting for a slot.', (g) =>
        g.set(sample.queueDepth()),
      ),
    );
    this.inflight = r.register(
      new Gauge('resdet_inference_in_flight', 'Inference jobs holding a slot.', (g) =>
        g.set(sample.active()),
      ),
    );
    this.rejected = r.register(
      new Counter('resdet_queue_rejections_total', 'Requests refused with 503 because the queue was full.'),
    );
    this.timeouts = r.register(
      new Counter(
        'resdet_request_timeouts_total',
        'Requests answered 504 because they ran past the timeout.',
      ),
    );
    r.register(
      new Gauge('resdet_process_resident_memory_bytes', 'Resident set size of the server process.', (g) =>
        g.set(process.memoryUsage.rss()),
      ),
    );
  }
}
