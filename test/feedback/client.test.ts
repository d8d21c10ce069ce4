import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { predict, sendFeedback, ServingApiError } from '../../src/feedback/client.js';
import type { FeedbackRecord } from '../../src/feedback/types.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { makeJpeg } from '../serve/helpers/images.js';
import { useTempHome } from '../serve/helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;
let jpeg: Buffer;

beforeAll(async () => {
  home = await useTempHome('client');
  s3 = await startTestS3('client');
  srv = await startServer({ port: 0, siteRoot: null, s3: { store: s3.store, bucket: s3.bucket }, rateLimit: null, snapshotMs: 0, log: () => undefined });
  jpeg = await makeJpeg(160, 120, 5);
});

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

describe('typed serving client', () => {
  it('sends feedback with the contract fields and gets a receipt; the stored record has what was sent', async () => {
    const receipt = await sendFeedback(`${srv.url}/`, {
      photo: { data: jpeg, type: 'image/jpeg' },
      answer: 'cat',
      prediction: { decision: 'not-cat', probability: 0.25, modelVersion: 7 },
      consent: true,
    });
    expect(['stored', 'queued']).toContain(receipt.status);
    await srv.uploader.drain();
    const key = (await s3.store.listKeys(s3.bucket, 'feedback/records/')).map((o) => o.key).find((k) => k.includes(receipt.id));
    expect(key).toBeDefined();
    const record = JSON.parse((await s3.store.getObject(s3.bucket, key!)).toString('utf8')) as FeedbackRecord;
    expect(record.answer).toBe('cat');
    expect(record.prediction).toEqual({ decision: 'not-cat', probability: 0.25, modelVersion: 7 });
  });

  it('raises a typed error with the server status and code', async () => {
    const noConsent = sendFeedback(srv.url, { photo: { data: jpeg }, answer: 'cat', prediction: { decision: 'cat' }, consent: false });
    await expect(noConsent).rejects.toBeInstanceOf(ServingApiError);
    await expect(noConsent).rejects.toMatchObject({ status: 400, code: 'consent_required' });
    // No model is promoted in this data folder.
    await expect(predict(srv.url, { data: jpeg, type: 'image/jpeg' })).rejects.toMatchObject({ status: 503, code: 'no_model' });
  });
});

describe('typed serving client against a server that never answers', () => {
  it('fails within its timeout with a typed error naming the URL', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => { sockets.push(s); }); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const t0 = Date.now();
      const err = await predict(`http://127.0.0.1:${port}`, { data: jpeg, type: 'image/jpeg' }, { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServingApiError);
      expect((err as ServingApiError).code).toBe('timeout');
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
