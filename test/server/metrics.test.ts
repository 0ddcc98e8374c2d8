import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from '../../server/metrics.js';

describe('Prometheus text format', () => {
  it('renders counters, gauges and cumulative histogram buckets with escaped labels', () => {
    const r = new Registry();
    const c = r.register(new Counter('x_total', 'Things.'));
    c.inc({ route: '/a', status: '200' });
    c.inc({ status: '200', route: '/a' }, 2);
    c.inc({ route: 'we"ird\\', status: '500' });
    let v = 0;
    r.register(new Gauge('depth', 'Depth.', (g) => g.set(++v)));
    const h = r.register(new Histogram('lat_seconds', 'Latency.', [0.1, 1, 0.5]));
    for (const x of [0.05, 0.3, 0.7, 2]) h.observe(x, { route: '/a' });
    const text = r.render();
    expect(text).toContain('# TYPE x_total counter');
    expect(text).toContain('x_total{route="/a",status="200"} 3');
    expect(text).toContain('x_total{route="we\\"ird\\\\",status="500"} 1');
    expect(text).toContain('depth 1');
    expect(r.render()).toContain('depth 2');
    expect(text).toContain('lat_seconds_bucket{route="/a",le="0.1"} 1');
    expect(text).toContain('lat_seconds_bucket{route="/a",le="0.5"} 2');
    expect(text).toContain('lat_seconds_bucket{route="/a",le="1"} 3');
    expect(text).toContain('lat_seconds_bucket{route="/a",le="+Inf"} 4');
    expect(text).toContain('lat_seconds_sum{route="/a"} 3.05');
    expect(text).toContain('lat_seconds_count{route="/a"} 4');
    expect(text.endsWith('\n')).toBe(true);
    expect(() => r.register(new Counter('x_total', 'again'))).toThrow(/twice/);
  });
});
