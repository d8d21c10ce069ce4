import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store, S3UnavailableError } from '../../src/storage/s3-client.js';
import { TcpProxy } from '../serve/helpers/tcp-proxy.js';

/** An S3 endpoint that accepts TCP connections and never answers must fail within the configured limit. */
describe('S3Store against a stalled endpoint', () => {
  let stall: TcpProxy;
  beforeAll(async () => {
    stall = await TcpProxy.stalling();
  });
  afterAll(async () => {
    await stall?.stop();
  });

  const store = () =>
    new S3Store(
      { endpoint: stall.endpoint, accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1' },
      { connectTimeoutMs: 1000, requestTimeoutMs: 1500, maxAttempts: 2 },
    );

  it('a put fails within attempts x requestTimeout with a typed timeout error', async () => {
    const s = store();
    const t0 = Date.now();
    const err = await s.putObject('b', 'k', Buffer.from('hello')).then(
      () => null,
      (e: unknown) => e,
    );
    const took = Date.now() - t0;
    s.close();
    expect(err).toBeInstanceOf(S3UnavailableError);
    expect((err as S3UnavailableError).timedOut).toBe(true);
    expect((err as Error).message).toMatch(/did not answer within 1500 ms/);
    // 2 attempts of 1.5 s plus the SDK's retry delay; a generous margin for a loaded machine, far below a minute.
    expect(took).toBeLessThan(8_000);
    expect(took).toBeGreaterThanOrEqual(1_400);
  }, 30_000);

  it('get, head and list fail the same way', async () => {
    const s = store();
    for (const call of [() => s.getObject('b', 'k'), () => s.headObject('b', 'k'), () => s.listKeys('b')]) {
      const t0 = Date.now();
      await expect(call()).rejects.toBeInstanceOf(S3UnavailableError);
      expect(Date.now() - t0).toBeLessThan(8_000);
    }
    s.close();
  }, 60_000);
});
