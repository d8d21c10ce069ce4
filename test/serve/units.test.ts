import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '../../src/serve/rate-limit.js';
import { MetricsRegistry } from '../../src/serve/metrics.js';
import { MicroBatcher } from '../../src/serve/micro-batcher.js';
import { sniffImageFormat, checkImageContentType } from '../../src/serve/image-input.js';
import { HttpError } from '../../src/serve/http-errors.js';
import { parsePrometheusText, histogramQuantile } from '../../src/monitoring/prometheus-text.js';

describe('token bucket rate limit', () => {
  it('allows a burst, then refuses with a retry time, then refills', () => {
    let t = 0;
    const limiter = new TokenBucketLimiter({ burst: 3, perSecond: 2 }, () => t);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    const refused = limiter.take('a');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(1);
    expect(limiter.take('b').allowed).toBe(true); // per client
    t = 500; // half a second: one token back
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('keeps at most maxClients buckets', () => {
    let t = 0;
    const limiter = new TokenBucketLimiter({ burst: 1, perSecond: 1, maxClients: 10 }, () => t);
    for (let i = 0; i < 100; i++) {
      limiter.take(`client-${i}`);
      t += 1;
    }
    expect(limiter.size).toBeLessThanOrEqual(10);
  });
});

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

describe('micro batcher', () => {
  it('batches items that arrive together and keeps results in order', async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher<number, number>(async (xs) => {
      sizes.push(xs.length);
      return xs.map((x) => x * 2);
    }, 4);
    const out = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => b.submit(x)));
    expect(out).toEqual([2, 4, 6, 8, 10, 12]);
    expect(sizes).toEqual([4, 2]);
  });

  it('rejects every item of a failing batch and keeps working', async () => {
    let fail = true;
    const b = new MicroBatcher<number, number>(async (xs) => {
      if (fail) throw new Error('boom');
      return xs;
    });
    await expect(Promise.all([b.submit(1), b.submit(2)])).rejects.toThrow('boom');
    fail = false;
    await expect(b.submit(3)).resolves.toBe(3);
  });
});

describe('image input checks', () => {
  it('recognises formats by their first bytes only', () => {
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe('jpeg');
    expect(sniffImageFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toBeNull();
    expect(sniffImageFormat(Buffer.from('GIF89a......'))).toBe('gif');
  });

  it('accepts image content types and refuses others with 415', () => {
    expect(() => checkImageContentType('image/jpeg')).not.toThrow();
    expect(() => checkImageContentType('image/png; charset=binary')).not.toThrow();
    for (const t of ['text/plain', undefined, 'image/svg+xml', 'application/octet-stream']) {
      try {
        checkImageContentType(t);
        expect.fail(`accepted ${t}`);
      } catch (err) {
        expect((err as HttpError).status).toBe(415);
      }
    }
  });
});
