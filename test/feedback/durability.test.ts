import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { S3Store } from '../../src/storage/s3-client.js';
import { FeedbackQueue } from '../../src/feedback/queue.js';
import { purgeFeedback } from '../../src/feedback/purge.js';
import { paths } from '../../src/storage/paths.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { TcpProxy } from '../serve/helpers/tcp-proxy.js';
import { makeJpeg } from '../serve/helpers/images.js';
import { form, useTempHome } from '../serve/helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let proxy: TcpProxy;
let jpeg: Buffer;
/** One photo per item: the same photo with the same answer within the replay window is one feedback item. */
let photos: Buffer[];

beforeAll(async () => {
  home = await useTempHome('durable');
  s3 = await startTestS3('durable');
  proxy = TcpProxy.forUrl(s3.endpoint);
  await proxy.start();
  jpeg = await makeJpeg(160, 120, 3);
  photos = await Promise.all(Array.from({ length: 5 }, (_, i) => makeJpeg(160, 120, 100 + i)));
});

afterAll(async () => {
  for (const store of stores) store.close();
  await proxy?.stop();
  await s3?.stop();
  await home?.restore();
});

/** A store that reaches S3 only through the proxy, so stopping the proxy makes S3 unreachable. */
function storeThroughProxy(): S3Store {
  return new S3Store(
    { endpoint: proxy.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region },
    { connectTimeoutMs: 500, requestTimeoutMs: 5000, maxAttempts: 1 },
  );
}

const stores: S3Store[] = [];

async function start(): Promise<RunningServer> {
  const store = storeThroughProxy();
  stores.push(store);
  return startServer({
    port: 0,
    siteRoot: null,
    s3: { store, bucket: s3.bucket },
    rateLimit: null,
    snapshotMs: 0,
    uploadRetryMs: 100,
    log: () => undefined,
  });
}

async function sendFeedback(srv: RunningServer, answer: 'cat' | 'not-cat', photo = jpeg) {
  const res = await fetch(`${srv.url}/api/feedback`, {
    method: 'POST',
    body: form({ consent: 'true', answer, prediction: 'cat', photo: { data: photo, filename: 'p.jpg', type: 'image/jpeg' } }),
  });
  return { status: res.status, body: (await res.json()) as { id: string; status: string } };
}

describe(`feedback durability (S3: ${process.env.AREYOUACAT_TEST_S3_ENDPOINT ? 'rgw' : 's3rver'})`, () => {
  it('queues feedback on disk while S3 is down and delivers all of it after a restart of both', async () => {
    let srv = await start();
    const ids: string[] = [];
    const first = await sendFeedback(srv, 'cat');
    expect(first.status).toBe(201);
    ids.push(first.body.id);

    await proxy.stop(); // S3 unreachable
    for (let i = 0; i < 5; i++) {
      const r = await sendFeedback(srv, i % 2 ? 'cat' : 'not-cat', photos[i]);
      expect(r.status).toBe(202);
      expect(r.body.status).toBe('queued');
      ids.push(r.body.id);
    }
    expect(await srv.queue.depth()).toBe(5);
    const health = await (await fetch(`${srv.url}/api/health`)).json();
    expect(health.feedback.queued).toBe(5);
    await srv.close(); // the server goes down with items still queued

    // Nothing lives only in memory: the queue on disk holds every undelivered item.
    expect(await new FeedbackQueue(paths.feedbackQueue()).depth()).toBe(5);

    await proxy.start(); // S3 back, same address
    srv = await start();
    const t0 = Date.now();
    while ((await srv.queue.depth()) > 0) {
      if (Date.now() - t0 > 30_000) throw new Error(`queue not drained: ${await srv.queue.depth()} left`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const keys = (await s3.store.listKeys(s3.bucket, 'feedback/')).map((o) => o.key);
    for (const id of ids) {
      expect(keys.filter((k) => k.includes(id)).length, `photo and record of ${id}`).toBe(2);
    }
    await srv.close();
  });

  it('purges feedback older than the retention period, in S3 and in the local queue', async () => {
    const store = s3.store;
    await store.putObject(s3.bucket, 'feedback/photos/2020-01-01/old.jpg', jpeg, 'image/jpeg');
    await store.putObject(s3.bucket, 'feedback/records/2020-01-01/old.json', '{}', 'application/json');
    const queue = new FeedbackQueue(paths.feedbackQueue());
    await queue.add({
      record: { id: '20200101T000000000Z-00000000000000aa' } as never,
      photoBase64: '',
      enqueuedAt: '2020-01-01T00:00:00.000Z',
    });
    const before = (await store.listKeys(s3.bucket, 'feedback/')).map((o) => o.key);
    const result = await purgeFeedback({ store, bucket: s3.bucket, prefix: 'feedback/', olderThanDays: 30, queue });
    expect(result.deletedObjects).toBe(2);
    expect(result.deletedQueued).toBe(1);
    const after = (await store.listKeys(s3.bucket, 'feedback/')).map((o) => o.key);
    expect(after).toEqual(before.filter((k) => !k.includes('2020-01-01')));
    expect(after.length).toBeGreaterThan(0); // recent feedback stays
    await expect(purgeFeedback({ store, bucket: s3.bucket, prefix: 'feedback/', olderThanDays: -1 })).rejects.toThrow(/days/);
  });
});
