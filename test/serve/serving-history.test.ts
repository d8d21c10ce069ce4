import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { paths } from '../../src/storage/paths.js';
import { SERVING_HISTORY_FILE, type ServingHistoryView } from '../../src/monitoring/serving-history.js';
import type { MonitoringReport } from '../../src/monitoring/types.js';
import { METRICS_SNAPSHOT_FILE } from '../../src/monitoring/serving-stats.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from './helpers/model-fixture.js';
import { makeJpeg } from './helpers/images.js';
import { useTempHome, testServerOptions } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let jpeg: Buffer;

beforeAll(async () => {
  home = await useTempHome('serving-history');
  s3 = await startTestS3('serving-history');
  await promoteTestModel(await registerTestModel({ tmp: home.home, seed: 1 }));
  jpeg = await makeJpeg();
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  await home?.restore();
});

const historyFile = () => path.join(paths.monitoring(), SERVING_HISTORY_FILE);

interface MonitoringBody {
  servingHistory: ServingHistoryView;
  report: MonitoringReport;
}

async function monitoring(srv: RunningServer): Promise<MonitoringBody> {
  const res = await fetch(`${srv.url}/api/monitoring`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as MonitoringBody;
  // The route's other fields stay.
  for (const key of ['report', 'source', 'days', 'hours', 'problems']) expect(body).toHaveProperty(key);
  return body;
}

async function history(srv: RunningServer): Promise<ServingHistoryView> {
  return (await monitoring(srv)).servingHistory;
}

const total = (v: ServingHistoryView, key: 'requests' | 'errors4xx' | 'errors5xx' | 'predictions') => v.buckets.reduce((a, b) => a + b[key], 0);

async function predict(srv: RunningServer, body: Buffer): Promise<number> {
  const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(body) });
  await res.arrayBuffer();
  return res.status;
}

describe('serving history in the server', () => {
  it('GET /api/monitoring has the counters per minute, and a restart keeps them', async () => {
    const log: string[] = [];
    let srv = await startServer(testServerOptions(s3, { workers: 0, log: (m) => log.push(m) }));
    try {
      const before = await history(srv);
      expect(before.bucketSeconds).toBe(60);
      for (let i = 0; i < 3; i++) expect(await predict(srv, jpeg)).toBe(200);
      expect(await predict(srv, Buffer.from('not an image at all'))).toBeGreaterThanOrEqual(400);
      const asked = Date.now();
      const now = await history(srv);
      expect(total(now, 'predictions') - total(before, 'predictions')).toBe(3);
      expect(total(now, 'errors4xx') - total(before, 'errors4xx')).toBe(1);
      // 4 predict requests and the first GET /api/monitoring, answered before this one read the counters.
      expect(total(now, 'requests') - total(before, 'requests')).toBe(5);
      const newest = now.buckets[now.buckets.length - 1];
      expect(newest.p50Ms).toBeGreaterThan(0);
      expect(newest.p99Ms).toBeGreaterThanOrEqual(newest.p50Ms!);
      // The newest minute is the one in progress (read at this request): marked partial, and no other minute is.
      expect(newest.partial).toBe(true);
      expect(Date.parse(newest.start) + 60_000).toBeGreaterThan(asked);
      expect(now.buckets.slice(0, -1).every((b) => !b.partial)).toBe(true);
    } finally {
      await srv.close();
    }
    // Saved at shutdown, read back at start.
    const saved = JSON.parse(await fs.readFile(historyFile(), 'utf8')) as { buckets: Array<{ requests: number }> };
    expect(saved.buckets.reduce((a, b) => a + b.requests, 0)).toBeGreaterThanOrEqual(6);
    srv = await startServer(testServerOptions(s3, { workers: 0, log: (m) => log.push(m) }));
    try {
      const after = await history(srv);
      expect(total(after, 'predictions')).toBe(3);
      expect(total(after, 'errors4xx')).toBe(1);
      expect(total(after, 'requests')).toBe(saved.buckets.reduce((a, b) => a + b.requests, 0));
    } finally {
      await srv.close();
    }
    expect(log.filter((l) => l.includes('serving history'))).toEqual([]);
  }, 180_000);

  it('the report the server builds has its serving section from the server\'s own counters (no --url, no snapshot file)', async () => {
    await fs.rm(path.join(paths.monitoring(), METRICS_SNAPSHOT_FILE), { force: true });
    const srv = await startServer(testServerOptions(s3, { workers: 0, log: () => undefined }));
    try {
      for (let i = 0; i < 2; i++) expect(await predict(srv, jpeg)).toBe(200);
      expect(await predict(srv, Buffer.from('not an image at all'))).toBeGreaterThanOrEqual(400);
      const { report } = await monitoring(srv);
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      expect(report.serving.status).not.toBe('unavailable');
      expect(report.serving.reason ?? '').not.toMatch(/--url|no server metrics/);
      expect(report.serving.source).toBe('server');
      expect(Date.parse(report.serving.at!)).toBeGreaterThan(Date.now() - 60_000);
      // The numbers /metrics gives (what `monitor --url` reads): the 3 predict requests, answered before the report.
      expect(report.serving).toMatchObject({ requests: 3, errors4xx: 1, errors5xx: 0, errorRate: 0, modelVersion: 1 });
      expect(report.serving.p50Ms).toBeGreaterThan(0);
      expect(metrics).toMatch(/areyouacat_http_requests_total\{[^}]*route="\/api\/predict"[^}]*status="200"[^}]*\} 2/);
    } finally {
      await srv.close();
    }
  }, 180_000);

  it('Open Inference Protocol requests (/v2) count in the history and the report\'s error rate; site pages do not', async () => {
    // What the history holds at start: the saved file of the previous servers (possibly of this same minute).
    const saved = JSON.parse(await fs.readFile(historyFile(), 'utf8')) as { buckets: Array<Record<'requests' | 'errors4xx' | 'errors5xx' | 'predictions', number>> };
    const srv = await startServer(testServerOptions(s3, { workers: 0, log: () => undefined }));
    try {
      const infer = (body: string) =>
        fetch(`${srv.url}/v2/models/areyouacat/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        });
      const good = JSON.stringify({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [jpeg.toString('base64')] }] });
      expect(await infer(good)).toBe(200);
      expect(await infer('{"inputs": [')).toBe(400); // not JSON
      expect((await fetch(`${srv.url}/v2/models/areyouacat/infer`)).status).toBe(405); // wrong method
      expect((await fetch(`${srv.url}/no-such-page`)).status).toBe(404); // the site's, not an API request
      const after = await monitoring(srv);
      const delta = (key: 'requests' | 'errors4xx' | 'errors5xx' | 'predictions') => total(after.servingHistory, key) - saved.buckets.reduce((a, b) => a + b[key], 0);
      expect(delta('requests')).toBe(3);
      expect(delta('errors4xx')).toBe(2);
      expect(delta('errors5xx')).toBe(0);
      expect(delta('predictions')).toBe(1);
      // The report's serving numbers (and so its error rate) count them as well.
      expect(after.report.serving).toMatchObject({ requests: 3, errors4xx: 2, errors5xx: 0, errorRate: 0 });
    } finally {
      await srv.close();
    }
  }, 180_000);

  it('a corrupt history file is reported, not fatal: the server starts with a fresh history and replaces the file', async () => {
    await fs.mkdir(paths.monitoring(), { recursive: true });
    await fs.writeFile(historyFile(), '{"schema": 1, "buckets": [{"start": "2026-');
    const log: string[] = [];
    const srv = await startServer(testServerOptions(s3, { workers: 0, log: (m) => log.push(m) }));
    try {
      expect(log.filter((l) => l.includes('serving history'))).toEqual([
        expect.stringMatching(/^serving history: .*serving-history\.json is unreadable \(.*\); starting a fresh one$/),
      ]);
      expect(await predict(srv, jpeg)).toBe(200);
      const v = await history(srv);
      expect(total(v, 'predictions')).toBe(1);
    } finally {
      await srv.close();
    }
    const saved = JSON.parse(await fs.readFile(historyFile(), 'utf8')) as { schema: number; buckets: Array<{ predictions: number }> };
    expect(saved.schema).toBe(1);
    expect(saved.buckets.reduce((a, b) => a + b.predictions, 0)).toBe(1);
  }, 180_000);
});
