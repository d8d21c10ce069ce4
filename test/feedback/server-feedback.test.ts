import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { S3Store } from '../../src/storage/s3-client.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { TcpProxy } from '../serve/helpers/tcp-proxy.js';
import { makeJpeg } from '../serve/helpers/images.js';
import { form, useTempHome } from '../serve/helpers/server-fixture.js';

/**
 * Feedback through a real server and a real S3 behind a proxy the test controls: a stalled S3 (with S3 timeouts as
 * long as a production client's) never holds a request beyond the feedback wait, health says S3 is unavailable,
 * and replays of the same feedback are acknowledged but stored once, also after a restart.
 */
let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let proxy: TcpProxy;
const stores: S3Store[] = [];
const servers: RunningServer[] = [];
const WAIT_MS = 500;

beforeAll(async () => {
  home = await useTempHome('feedback-server');
  s3 = await startTestS3('feedback-server');
  proxy = TcpProxy.forUrl(s3.endpoint);
  await proxy.start();
}, 120_000);

afterAll(async () => {
  proxy?.setMode('forward');
  proxy?.cut();
  for (const srv of servers) await srv.close();
  for (const store of stores) store.close();
  await proxy?.stop();
  await s3?.stop();
  await home?.restore();
});

async function start(): Promise<RunningServer> {
  // Timeouts like a production client's: a stalled attempt fails only after 30 s.
  const store = new S3Store(
    { endpoint: proxy.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region },
    { connectTimeoutMs: 2000, requestTimeoutMs: 30_000, maxAttempts: 1 },
  );
  stores.push(store);
  const srv = await startServer({
    port: 0,
    siteRoot: null,
    s3: { store, bucket: s3.bucket },
    rateLimit: null,
    snapshotMs: 0,
    uploadRetryMs: 100,
    feedbackWaitMs: WAIT_MS,
    log: () => undefined,
  });
  servers.push(srv);
  return srv;
}

async function post(srv: RunningServer, photo: Buffer, fields: Record<string, string> = {}) {
  const t0 = performance.now();
  const res = await fetch(`${srv.url}/api/feedback`, {
    method: 'POST',
    body: form({ consent: 'true', answer: 'cat', prediction: 'cat', ...fields, photo: { data: photo, filename: 'p.jpg', type: 'image/jpeg' } }),
  });
  return { status: res.status, body: await res.json(), ms: performance.now() - t0 };
}

async function health(srv: RunningServer): Promise<any> {
  return (await fetch(`${srv.url}/api/health`)).json();
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function recordsOf(id: string): Promise<number> {
  return (await s3.store.listKeys(s3.bucket, 'feedback/records/')).filter((o) => o.key.includes(id)).length;
}

describe('feedback with a stalled S3', () => {
  it('answers 202 within the feedback wait, health says S3 is unavailable, and the item is uploaded once S3 answers', async () => {
    const srv = await start();
    expect((await post(srv, await makeJpeg(96, 72, 31))).status).toBe(201);
    expect((await health(srv)).feedback.s3).toBe('ok');

    proxy.setMode('stall');
    proxy.cut(); // kept-alive connections would bypass the stall
    const stalled = await post(srv, await makeJpeg(96, 72, 32));
    expect(stalled.status).toBe(202);
    expect(stalled.body.status).toBe('queued');
    expect(stalled.ms, `feedback took ${Math.round(stalled.ms)} ms with S3 stalled`).toBeLessThan(WAIT_MS + 4000);
    await waitFor('health to report S3 unavailable', async () => (await health(srv)).feedback.s3 === 'unavailable');
    const h = await health(srv);
    expect(h.feedback).toMatchObject({ s3: 'unavailable', queued: 1, uploading: false, lastError: expect.any(String) });
    // While S3 is known to be unavailable, a request does not even start an upload.
    const next = await post(srv, await makeJpeg(96, 72, 33));
    expect(next.status).toBe(202);
    expect(next.ms).toBeLessThan(WAIT_MS + 4000);

    proxy.setMode('forward');
    proxy.cut(); // the stalled uploads fail now, the uploader backs off and retries through a healthy proxy
    await waitFor('the queue to drain and S3 to be ok', async () => {
      const f = (await health(srv)).feedback;
      return f.queued === 0 && f.s3 === 'ok';
    });
    expect(await recordsOf(stalled.body.id)).toBe(1);
    expect(await recordsOf(next.body.id)).toBe(1);
    await srv.close();
  }, 120_000);

  it('refuses non-decimal numbers with a 400 and the reason', async () => {
    const srv = await start();
    const photo = await makeJpeg(96, 72, 34);
    const version = await post(srv, photo, { modelVersion: '1e300' });
    expect(version.status).toBe(400);
    expect(version.body.error).toMatchObject({ code: 'invalid_modelVersion', message: expect.stringContaining('1e300') });
    const probability = await post(srv, photo, { probability: '0x0' });
    expect(probability.status).toBe(400);
    expect(probability.body.error).toMatchObject({ code: 'invalid_probability', message: expect.stringContaining('0x0') });
    await srv.close();
  }, 60_000);
});

describe('idempotent feedback', () => {
  it('stores the same feedback replayed 100 times once, and recognises a replay after a restart', async () => {
    let srv = await start();
    const photo = await makeJpeg(96, 72, 41);
    const fields = { answer: 'not-cat', prediction: 'cat', probability: '0.91', modelVersion: '1' };
    const results: Array<{ status: number; body: any }> = [];
    for (let batch = 0; batch < 10; batch++) {
      results.push(...(await Promise.all(Array.from({ length: 10 }, () => post(srv, photo, fields)))));
    }
    const id = results[0].body.id;
    expect(results.every((r) => [200, 201, 202].includes(r.status)), JSON.stringify(results.map((r) => r.status))).toBe(true);
    expect(new Set(results.map((r) => r.body.id as string))).toEqual(new Set([id]));
    expect(results.filter((r) => r.status !== 200).length).toBe(1);
    expect(results.filter((r) => r.body.replay === true).length).toBe(99);
    await waitFor('the queue to drain', async () => (await srv.queue.depth()) === 0);
    expect((await s3.store.listKeys(s3.bucket, 'feedback/records/')).filter((o) => o.key.includes(id)).length).toBe(1);
    const before = (await s3.store.listKeys(s3.bucket, 'feedback/records/')).length;

    // Another answer for the same photo is new feedback.
    const other = await post(srv, photo, { ...fields, answer: 'cat' });
    expect([201, 202]).toContain(other.status);
    expect(other.body.id).not.toBe(id);

    await srv.close();
    srv = await start();
    await srv.replaysSeeded;
    const again = await post(srv, photo, fields);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id, status: 'stored', replay: true });
    await waitFor('the queue to drain', async () => (await srv.queue.depth()) === 0);
    expect((await s3.store.listKeys(s3.bucket, 'feedback/records/')).length).toBe(before + 1);
    await srv.close();
  }, 180_000);
});
