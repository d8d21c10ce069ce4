/**
 * Issue 26, defect 5: monitoring's predict latency must be that of answered predictions. A flood of requests that
 * the rate limit refuses (429, answered in microseconds) must not pull the percentiles down; refusals are counted
 * apart. A real server, a real model and real requests; the numbers read back from its /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { scrapeMetrics, servingCounts, servingNumbers } from '../../src/monitoring/serving-stats.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from '../serve/helpers/model-fixture.js';
import { makeJpeg } from '../serve/helpers/images.js';
import { useTempHome } from '../serve/helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;

beforeAll(async () => {
  home = await useTempHome('refusals');
  s3 = await startTestS3('refusals');
  await promoteTestModel(await registerTestModel({ tmp: home.home, imageSize: 32 }));
  srv = await startServer({
    port: 0,
    siteRoot: null,
    s3: { store: s3.store, bucket: s3.bucket },
    rateLimit: { burst: 5, perSecond: 0.01 },
    snapshotMs: 0,
    workers: 1,
    log: () => undefined,
  });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

describe('serving numbers after a flood of refused predictions', () => {
  it('takes latency percentiles from answered predictions only and counts refusals apart', async () => {
    const photo = await makeJpeg(200, 150, 3);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(photo) });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const answered = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 429).length;
    expect(answered).toBe(5);
    expect(refused).toBe(35);

    const samples = await scrapeMetrics(srv.url);
    const counts = servingCounts(samples);
    const inf = counts.latency.find((b) => b.le === Infinity);
    // The latency histogram holds the answered predictions, not the refusals.
    expect(inf?.count).toBe(answered);
    const numbers = servingNumbers(samples);
    expect(numbers.refused).toBe(refused);
    expect(numbers.requests).toBeGreaterThanOrEqual(40);
  }, 120_000);
});
