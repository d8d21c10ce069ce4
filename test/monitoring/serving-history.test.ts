import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServingHistory, saveServingHistory, ServingHistory } from '../../src/monitoring/serving-history.js';
import { samplesFromSnapshot, servingCounts, servingNumbers } from '../../src/monitoring/serving-stats.js';
import { createServerMetrics, LATENCY_BUCKETS, type ServerMetrics } from '../../src/serve/server-instruments.js';

const T0 = Date.parse('2026-12-01T10:00:05Z');
const MIN = 60_000;

/** The counters a server would count: `n` answers of `route` with `status`, each taking `seconds`. */
function answer(m: ServerMetrics, n: number, route: string, status: number, seconds = 0.004): void {
  for (let i = 0; i < n; i++) {
    m.requests.inc({ route, method: 'POST', status: String(status) });
    m.duration.observe(seconds, { route });
    if (route === '/api/predict' && status === 200) m.predictions.inc({ decision: 'cat' });
  }
}

const counts = (m: ServerMetrics) => servingCounts(samplesFromSnapshot(m.registry.snapshot()));

describe('serving history', () => {
  it('puts what the counters gained into the minute it was read in', () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    answer(m, 3, '/api/predict', 200);
    answer(m, 2, '/api/predict', 415);
    h.record(counts(m), T0);
    answer(m, 1, '/api/predict', 503);
    answer(m, 4, 'site', 200); // the site's pages are not API requests
    h.record(counts(m), T0 + 40_000); // same minute (10:00:45)
    answer(m, 5, '/api/health', 200);
    h.record(counts(m), T0 + MIN); // 10:01:05
    h.record(counts(m), T0 + 2 * MIN); // nothing new: a minute of zeros
    const v = h.view(T0 + 2 * MIN);
    expect(v.bucketSeconds).toBe(60);
    expect(v.hours).toBe(24);
    expect(v.buckets.map((b) => [b.start, b.requests, b.errors4xx, b.errors5xx, b.predictions])).toEqual([
      ['2026-12-01T10:00:00.000Z', 6, 2, 1, 3],
      ['2026-12-01T10:01:00.000Z', 5, 0, 0, 0],
      ['2026-12-01T10:02:00.000Z', 0, 0, 0, 0],
    ]);
    expect(v.buckets[1].p50Ms).toBeNull(); // no predict request in that minute
  });

  it('marks the minute in progress as partial, and only it', () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    answer(m, 4, '/api/health', 200);
    h.record(counts(m), T0); // 10:00:05
    answer(m, 1, '/api/health', 200);
    h.record(counts(m), T0 + MIN); // 10:01:05
    // Read during 10:01: that minute has its counts so far.
    expect(h.view(T0 + MIN + 20_000).buckets.map((b) => [b.start, b.requests, b.partial])).toEqual([
      ['2026-12-01T10:00:00.000Z', 4, false],
      ['2026-12-01T10:01:00.000Z', 1, true],
    ]);
    // Once 10:01 is over, no minute of the history is in progress (nothing was read in 10:02 yet).
    expect(h.view(T0 + 2 * MIN).buckets.map((b) => b.partial)).toEqual([false, false]);
  });

  it('counts the Open Inference Protocol routes (/v2) as API requests, not the site or unknown paths', () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    answer(m, 3, '/v2/models/{name}/infer', 200);
    answer(m, 2, '/v2/models/{name}/infer', 400);
    answer(m, 1, '/v2/models/{name}/infer', 503);
    answer(m, 1, '/v2/not-found', 404);
    answer(m, 1, '/v2', 200);
    answer(m, 5, 'site', 200);
    answer(m, 2, 'not-found', 404); // a path that is neither a page of the site nor a route
    answer(m, 1, '/v2x', 200); // not under /v2
    h.record(counts(m), T0);
    const [b] = h.view(T0).buckets;
    expect([b.requests, b.errors4xx, b.errors5xx]).toEqual([8, 3, 1]);
    // And the report's serving numbers count them too.
    expect(servingNumbers(samplesFromSnapshot(m.registry.snapshot()))).toMatchObject({ requests: 8, errors4xx: 3, errors5xx: 1, errorRate: 1 / 8 });
  });

  it('keeps at most the last 24 hours, one bucket per minute', () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    for (let i = 0; i < 1500; i++) {
      answer(m, 1, '/api/health', 200);
      h.record(counts(m), T0 + i * MIN);
    }
    const v = h.view(T0 + 1499 * MIN);
    expect(v.buckets).toHaveLength(1440);
    expect(h.size).toBe(1440);
    expect(v.buckets[0].start).toBe(new Date(Math.floor((T0 + 60 * MIN) / MIN) * MIN).toISOString());
    expect(v.buckets.every((b) => b.requests === 1)).toBe(true);
    // After a day without readings (the server was down), the old minutes are gone.
    h.record(counts(m), T0 + 1499 * MIN + 24 * 3_600_000);
    expect(h.view(T0 + 1499 * MIN + 24 * 3_600_000).buckets).toHaveLength(1);
  });

  it('a small ring keeps only its newest buckets', () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS, keepMs: 5 * MIN });
    for (let i = 0; i < 10; i++) {
      answer(m, i + 1, '/api/health', 200);
      h.record(counts(m), T0 + i * MIN);
    }
    expect(h.view(T0 + 9 * MIN).buckets.map((b) => b.requests)).toEqual([6, 7, 8, 9, 10]);
  });

  it('latency percentiles of a minute come from that minute\'s histogram counts, not the totals since the start', () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    answer(m, 900, '/api/predict', 200, 0.003); // a fast minute: between the 2.5 and 5 ms bounds
    h.record(counts(m), T0);
    answer(m, 100, '/api/predict', 200, 0.2); // a slow one: between 100 and 250 ms
    h.record(counts(m), T0 + MIN);
    const [fast, slow] = h.view(T0 + MIN).buckets;
    for (const q of [fast.p50Ms, fast.p95Ms, fast.p99Ms]) {
      expect(q).toBeGreaterThan(2.5);
      expect(q).toBeLessThanOrEqual(5);
    }
    // Since the start, 90% of the answers were fast: a cumulative p50 would say about 4 ms.
    for (const q of [slow.p50Ms, slow.p95Ms, slow.p99Ms]) {
      expect(q).toBeGreaterThan(100);
      expect(q).toBeLessThanOrEqual(250);
    }
    expect(slow.p50Ms).toBe(175); // linear inside the bucket, as PromQL's histogram_quantile
    expect(slow.p99Ms).toBeGreaterThan(slow.p95Ms!);
  });

  it('a restarted server counts from zero again, added to the minutes it had', () => {
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    const before = createServerMetrics();
    answer(before, 10, '/api/health', 200);
    h.record(counts(before), T0);
    const after = createServerMetrics(); // counters reset
    answer(after, 2, '/api/health', 200);
    h.record(counts(after), T0 + 10_000);
    expect(h.view(T0 + 10_000).buckets.map((b) => b.requests)).toEqual([12]);
  });
});

describe('serving history file', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-history-'));
    file = path.join(dir, 'monitoring', 'serving-history.json');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('saves and reads back the same minutes, and a new process adds to them', async () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    answer(m, 20, '/api/predict', 200, 0.012);
    answer(m, 3, '/api/predict', 400);
    h.record(counts(m), T0);
    answer(m, 7, '/api/predict', 200, 0.04);
    h.record(counts(m), T0 + MIN);
    await saveServingHistory(file, h, T0 + MIN);
    expect((await fs.readdir(path.dirname(file))).filter((f) => f !== 'serving-history.json')).toEqual([]); // no temp file left
    const loaded = await loadServingHistory(file, { latencyBounds: LATENCY_BUCKETS }, T0 + 2 * MIN);
    expect(loaded.problem).toBeNull();
    expect(loaded.history.view(T0 + 2 * MIN)).toEqual(h.view(T0 + 2 * MIN));
    // The restarted server's counters start at zero; what it counts goes into its own minutes.
    const m2 = createServerMetrics();
    answer(m2, 4, '/api/predict', 200, 0.012);
    loaded.history.record(counts(m2), T0 + 2 * MIN);
    expect(loaded.history.view(T0 + 2 * MIN).buckets.map((b) => b.requests)).toEqual([23, 7, 4]);
  });

  it('no file: an empty history, no problem', async () => {
    const loaded = await loadServingHistory(file, { latencyBounds: LATENCY_BUCKETS });
    expect(loaded.problem).toBeNull();
    expect(loaded.history.size).toBe(0);
  });

  it('a file older than the window keeps only the minutes still inside it', async () => {
    const m = createServerMetrics();
    const h = new ServingHistory({ latencyBounds: LATENCY_BUCKETS });
    answer(m, 1, '/api/health', 200);
    h.record(counts(m), T0);
    answer(m, 1, '/api/health', 200);
    h.record(counts(m), T0 + 3 * 3_600_000);
    await saveServingHistory(file, h, T0 + 3 * 3_600_000);
    const loaded = await loadServingHistory(file, { latencyBounds: LATENCY_BUCKETS }, T0 + 25 * 3_600_000);
    expect(loaded.history.view(T0 + 25 * 3_600_000).buckets.map((b) => b.start)).toEqual(['2026-12-01T13:00:00.000Z']);
  });

  it.each([
    ['not JSON', '{"schema": 1, "buckets": [', /not valid JSON|JSON/],
    ['another schema', JSON.stringify({ schema: 7 }), /unknown schema 7/],
    ['other latency buckets', JSON.stringify({ schema: 1, savedAt: '', bucketSeconds: 60, latencyBounds: [1, 2], buckets: [] }), /other latency buckets/],
    ['a broken bucket', JSON.stringify({ schema: 1, savedAt: '', bucketSeconds: 60, latencyBounds: LATENCY_BUCKETS, buckets: [{ start: 'yesterday' }] }), /bad bucket start/],
    ['negative counts', JSON.stringify({ schema: 1, savedAt: '', bucketSeconds: 60, latencyBounds: LATENCY_BUCKETS,
      buckets: [{ start: '2026-12-01T10:00:00.000Z', requests: -1, errors4xx: 0, errors5xx: 0, predictions: 0, latency: [] }] }), /bad counts/],
  ])('a corrupt file (%s) is reported and the history starts fresh', async (_what, text, reason) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
    const loaded = await loadServingHistory(file, { latencyBounds: LATENCY_BUCKETS }, T0);
    expect(loaded.problem).toContain(file);
    expect(loaded.problem).toMatch(reason);
    expect(loaded.history.size).toBe(0);
    // The fresh history works and its save replaces the broken file.
    const m = createServerMetrics();
    answer(m, 1, '/api/health', 200);
    loaded.history.record(counts(m), T0);
    await saveServingHistory(file, loaded.history, T0);
    const again = await loadServingHistory(file, { latencyBounds: LATENCY_BUCKETS }, T0);
    expect(again.problem).toBeNull();
    expect(again.history.view(T0).buckets.map((b) => b.requests)).toEqual([1]);
  });
});
