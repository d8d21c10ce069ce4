/**
 * Issue 26, defect 6: /api/health is unauthenticated, so it says what is wrong in words; the details (S3 endpoint,
 * bucket, object keys) go to the log. A real server whose S3 endpoint refuses connections.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { S3Store } from '../../src/storage/s3-client.js';
import { until } from '../helpers/until.js';
import { makeJpeg } from './helpers/images.js';
import { form, useTempHome } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let srv: RunningServer;
let store: S3Store;
let port: number;
const logs: string[] = [];

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const p = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return p;
}

beforeAll(async () => {
  home = await useTempHome('health-words');
  port = await closedPort();
  store = new S3Store({ endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'k', secretAccessKey: 's', region: 'us-east-1' }, { maxAttempts: 1, connectTimeoutMs: 1000, requestTimeoutMs: 2000 });
  srv = await startServer({
    port: 0,
    siteRoot: null,
    s3: { store, bucket: 'secret-bucket-name' },
    rateLimit: null,
    snapshotMs: 0,
    uploadRetryMs: 100,
    feedbackWaitMs: 300,
    log: (m: string) => logs.push(m),
  });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  store?.close();
  await home?.restore();
});

describe('/api/health with S3 unreachable', () => {
  it('says S3 is unreachable in words, without the endpoint, bucket or object key; the log has them', async () => {
    const photo = await makeJpeg(96, 72, 5);
    const res = await fetch(`${srv.url}/api/feedback`, {
      method: 'POST',
      body: form({ consent: 'true', answer: 'cat', prediction: 'cat', photo: { data: photo, filename: 'p.jpg', type: 'image/jpeg' } }),
    });
    expect(res.status).toBe(202);
    let health: any;
    await until(async () => {
      health = await (await fetch(`${srv.url}/api/health`)).json();
      return health.feedback.s3 === 'unavailable' && health.feedback.lastError !== null;
    }, 'health to say S3 is unavailable');
    const text = JSON.stringify(health);
    expect(text).not.toContain(String(port));
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('secret-bucket-name');
    expect(text).not.toContain('feedback/');
    expect(health.feedback.lastError).toMatch(/S3 is unreachable.*log/);
    expect(logs.join('\n')).toContain(String(port));
  }, 120_000);
});
