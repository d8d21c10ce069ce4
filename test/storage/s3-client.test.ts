import crypto from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../src/storage/s3-client.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function inParallel<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

describe('S3Store', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3('client');
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('stores and returns binary objects byte for byte', async () => {
    const body = crypto.randomBytes(200_000);
    await s3.store.putObject(s3.bucket, 'bin/random.bin', body, 'application/octet-stream');
    const back = await s3.store.getObject(s3.bucket, 'bin/random.bin');
    expect(back.length).toBe(body.length);
    expect(back.equals(body)).toBe(true);
    const head = await s3.store.headObject(s3.bucket, 'bin/random.bin');
    expect(head?.size).toBe(body.length);
    expect(head?.contentType).toBe('application/octet-stream');
  });

  it('reports a missing object clearly', async () => {
    expect(await s3.store.headObject(s3.bucket, 'nope/missing.jpg')).toBeUndefined();
    await expect(s3.store.getObject(s3.bucket, 'nope/missing.jpg')).rejects.toThrow(
      `cannot read s3://${s3.bucket}/nope/missing.jpg: not found`,
    );
  });

  it('ensureBucket is idempotent', async () => {
    await s3.store.ensureBucket(s3.bucket);
    await s3.store.ensureBucket(s3.bucket);
    expect(await s3.store.headObject(s3.bucket, 'bin/random.bin')).toBeDefined();
  });

  // s3rver: more than 1000 keys, its real page size (its v2 tokens fail on Node 20). A real server is slower
  // to fill, so there small pages over fewer keys exercise the same paging.
  it('lists every key across pages and filters by prefix', async () => {
    const [n, pageSize] = s3.kind === 's3rver' ? [1003, undefined] : [230, 100];
    const keys = Array.from({ length: n }, (_, i) => `many/k${String(i).padStart(5, '0')}.txt`);
    await inParallel(keys, 16, (k) => s3.store.putObject(s3.bucket, k, k));
    await s3.store.putObject(s3.bucket, 'other/x.txt', 'x');
    const listed = await s3.store.listKeys(s3.bucket, 'many/', { pageSize });
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(listed[0].size).toBe(keys[0].length);
    const all = await s3.store.listKeys(s3.bucket);
    expect(all.map((o) => o.key)).toContain('other/x.txt');
    expect(all.length).toBe(keys.length + 2); // + bin/random.bin

    await s3.store.deleteObjects(s3.bucket, keys);
    expect(await s3.store.listKeys(s3.bucket, 'many/')).toEqual([]);
    await s3.store.deleteObject(s3.bucket, 'other/x.txt');
    await s3.store.deleteObject(s3.bucket, 'other/x.txt'); // missing: not an error
    expect(await s3.store.headObject(s3.bucket, 'other/x.txt')).toBeUndefined();
  }, 120_000);

  it('names a bucket that does not exist', async () => {
    await expect(s3.store.getObject(`${s3.bucket}-absent`, 'a')).rejects.toThrow(/bucket does not exist|not found/);
  });

  it('fails fast and clearly when the endpoint is unreachable', async () => {
    const port = await closedPort();
    const store = new S3Store({ endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1' });
    const t0 = Date.now();
    await expect(store.listKeys('whatever')).rejects.toThrow(`S3 endpoint http://127.0.0.1:${port} unreachable: ECONNREFUSED`);
    expect(Date.now() - t0).toBeLessThan(10_000);
    store.close();
  });
});
