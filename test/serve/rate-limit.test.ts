import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { TokenBucketLimiter } from '../../src/serve/rate-limit.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { useTempHome } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;

beforeAll(async () => {
  home = await useTempHome('ratelimit');
  s3 = await startTestS3('ratelimit');
  srv = await startServer({
    port: 0,
    siteRoot: null,
    s3: { store: s3.store, bucket: s3.bucket },
    rateLimit: { burst: 2, perSecond: 0.1 },
    snapshotMs: 0,
    log: () => undefined,
  });
});

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

describe('serve without a model, with a rate limit', () => {
  it('answers 503 with a clear error while no model is promoted', async () => {
    const health = await fetch(`${srv.url}/api/health`);
    expect(health.status).toBe(503);
    expect((await health.json()).status).toBe('no-model');
  });

  it('limits each client with a token bucket: 429 with Retry-After once the burst is spent', async () => {
    const post = () => fetch(`${srv.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: 'x' });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await post();
      statuses.push(res.status);
      const body = await res.json();
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(body.error.code).toBe('rate_limited');
      }
    }
    expect(statuses.slice(0, 2)).toEqual([503, 503]);
    expect(statuses.slice(2)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(5);
    // health and metrics are not rate limited
    expect((await fetch(`${srv.url}/metrics`)).status).toBe(200);
  });
});

describe('serve start-up', () => {
  it('fails clearly when the port is taken', async () => {
    await expect(
      startServer({ port: srv.port, siteRoot: null, s3: { store: s3.store, bucket: s3.bucket }, snapshotMs: 0, log: () => undefined }),
    ).rejects.toThrow(/already in use/);
  });
});

describe('token bucket rate limit', () => {
  it('allows a burst, then refuses with a retry time, then refills', () => {
    let t = 0;
    const limiter = new TokenBucketLimiter({ burst: 3, perSecond: 2 }, () => t);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    const refused = limiter.take('a');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(1);
    expect(limiter.take('b').allowed).toBe(true); // per client
    t = 500; // half a second: one token back
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('keeps at most maxClients buckets', () => {
    let t = 0;
    const limiter = new TokenBucketLimiter({ burst: 1, perSecond: 1, maxClients: 10 }, () => t);
    for (let i = 0; i < 100; i++) {
      limiter.take(`client-${i}`);
      t += 1;
    }
    expect(limiter.size).toBeLessThanOrEqual(10);
  });
});
