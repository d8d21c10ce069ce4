import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/monitoring/prometheus-registry.js';
import { parsePrometheusText, histogramQuantile } from '../../src/monitoring/prometheus-text.js';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in Prometheus text format that parses back', () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_requests_total', 'Requests.');
    const g = r.gauge('x_version', 'Version.');
    const h = r.histogram('x_seconds', 'Latency.', [0.01, 0.1, 1]);
    c.inc({ route: '/a', status: '200' });
    c.inc({ route: '/a', status: '200' });
    c.inc({ route: '/b', status: '4"04' });
    g.set(3, { version: '3' });
    for (const v of [0.005, 0.02, 0.05, 0.5, 5]) h.observe(v, { route: '/a' });
    const text = r.render();
    expect(text).toContain('# TYPE x_requests_total counter');
    expect(text).toContain('x_requests_total{route="/a",status="200"} 2');
    expect(text).toContain('x_requests_total{route="/b",status="4\\"04"} 1');
    expect(text).toContain('x_seconds_bucket{route="/a",le="0.1"} 3');
    expect(text).toContain('x_seconds_bucket{route="/a",le="+Inf"} 5');
    expect(text).toContain('x_seconds_count{route="/a"} 5');
    const parsed = parsePrometheusText(text);
    const b = parsed.find((s) => s.name === 'x_requests_total' && s.labels.route === '/b');
    expect(b?.labels.status).toBe('4"04');
    expect(b?.value).toBe(1);
    expect(parsed.find((s) => s.name === 'x_version')?.value).toBe(3);
    const buckets = parsed
      .filter((s) => s.name === 'x_seconds_bucket')
      .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }));
    const p50 = histogramQuantile(buckets, 0.5);
    expect(p50).toBeGreaterThan(0.01);
    expect(p50).toBeLessThanOrEqual(0.1);
  });

  it('refuses a duplicate or invalid name', () => {
    const r = new MetricsRegistry();
    r.counter('a_total', 'A.');
    expect(() => r.counter('a_total', 'A.')).toThrow(/twice/);
    expect(() => r.gauge('bad name', 'B.')).toThrow(/invalid/);
  });
});
