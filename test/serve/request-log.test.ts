import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { createLogger, logTo } from '../../src/logging/index.js';
import { parsePrometheusText } from '../../src/monitoring/prometheus-text.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../src/monitoring/prometheus-registry.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { useTempHome } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;
const written: string[] = [];

/** The server's log, through the JSON logger the CLI uses, parsed back line by line. */
function logLines(): Array<Record<string, unknown>> {
  return written.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitForLine(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = logLines().find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no such log line; got:\n${written.join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  home = await useTempHome('reqlog');
  s3 = await startTestS3('reqlog');
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      written.push(chunk.toString());
      done();
    },
  });
  srv = await startServer({
    port: 0,
    siteRoot: null,
    s3: { store: s3.store, bucket: s3.bucket },
    readPromoted: async () => null,
    rateLimit: null,
    snapshotMs: 0,
    log: logTo(createLogger({ format: 'json', destination })),
  });
});

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

describe('serve: request ids and structured request logs', () => {
  it('echoes a sane incoming X-Request-Id and logs the request with it', async () => {
    const res = await fetch(`${srv.url}/v2/health/live`, { headers: { 'x-request-id': 'client-id-42' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('client-id-42');
    const line = await waitForLine((l) => l.reqId === 'client-id-42');
    expect(line).toMatchObject({ level: 'info', method: 'GET', path: '/v2/health/live', status: 200 });
    expect(typeof line.msg).toBe('string');
    expect(Number.isNaN(Date.parse(String(line.time)))).toBe(false);
    expect(typeof line.durationMs).toBe('number');
  });

  it('generates an id when there is none or it is not a sane token, on errors too', async () => {
    const none = await fetch(`${srv.url}/api/nothing-here`);
    expect(none.status).toBe(404);
    const generated = none.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    await waitForLine((l) => l.reqId === generated && l.status === 404);

    const bad = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'x-request-id': 'has spaces<script>' }, body: 'x' });
    expect(bad.status).toBe(503);
    const replaced = bad.headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    const line = await waitForLine((l) => l.reqId === replaced);
    expect(line).toMatchObject({ level: 'warn', status: 503 });

    const wrongMethod = await fetch(`${srv.url}/api/health`, { method: 'DELETE', headers: { 'x-request-id': 'x'.repeat(129) } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('shows process metrics on /metrics next to the application ones, in a format that parses', async () => {
    const res = await fetch(`${srv.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await res.text();
    const names = new Set(parsePrometheusText(text).map((s) => s.name));
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_active_handles_total',
      'areyouacat_http_requests_total',
    ]) {
      expect(names, name).toContain(name);
    }
    // GC durations have samples only after a collection; the histogram is declared from the start.
    expect(text).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram$/m);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});
