import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { clientAddressResolver, parseTrustProxy } from '../../src/serve/client-address.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { useTempHome } from './helpers/server-fixture.js';

describe('client address behind proxies', () => {
  it('takes the hop the trusted proxy added, never the client-written left end', () => {
    const one = clientAddressResolver(parseTrustProxy(true));
    expect(one('127.0.0.1', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
    expect(one('::ffff:127.0.0.1', '203.0.113.7')).toBe('203.0.113.7');
    expect(one('127.0.0.1', undefined)).toBe('127.0.0.1');
    const two = clientAddressResolver(parseTrustProxy('2'));
    expect(two('10.0.0.2', '6.6.6.6, 203.0.113.7, 10.0.0.1')).toBe('203.0.113.7');
    expect(two('10.0.0.2', '10.0.0.1')).toBe('10.0.0.1'); // fewer hops than proxies: the farthest one
    const listed = clientAddressResolver(parseTrustProxy('127.0.0.1, 10.0.0.0/8, fd00::/8'));
    expect(listed('127.0.0.1', '6.6.6.6, 203.0.113.7, 10.1.2.3')).toBe('203.0.113.7');
    expect(listed('127.0.0.1', '6.6.6.6, [2001:db8::1]:443, fd00::5')).toBe('2001:db8::1');
    expect(listed('198.51.100.1', '6.6.6.6')).toBe('198.51.100.1'); // the peer is no trusted proxy
    const none = clientAddressResolver(parseTrustProxy(false));
    expect(none('127.0.0.1', '6.6.6.6')).toBe('127.0.0.1');
    expect(() => parseTrustProxy('10.0.0.0/40')).toThrow(/prefix/);
    expect(() => parseTrustProxy('proxy.example')).toThrow(/not an IP/);
  });
});

describe.each([
  { trustProxy: 1 as const, tag: 'one proxy', xff: (i: number) => `10.9.${i}.1, 203.0.113.7` },
  { trustProxy: ['127.0.0.1', '10.0.0.0/8'], tag: 'listed proxies', xff: (i: number) => `192.0.2.${i}, 203.0.113.7, 10.1.2.3` },
])('rate limit behind a proxy ($tag)', ({ trustProxy, xff }) => {
  let home: Awaited<ReturnType<typeof useTempHome>>;
  let s3: TestS3;
  let srv: RunningServer;
  beforeAll(async () => {
    home = await useTempHome('trustproxy');
    s3 = await startTestS3('trustproxy');
    srv = await startServer({
      port: 0,
      siteRoot: null,
      s3: { store: s3.store, bucket: s3.bucket },
      rateLimit: { burst: 10, perSecond: 0.1 },
      trustProxy,
      snapshotMs: 0,
      log: () => undefined,
    });
  });
  afterAll(async () => {
    await srv?.close();
    await s3?.stop();
    await home?.restore();
  });

  it('80 requests with rotating left-most X-Forwarded-For values are limited as one client', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      const res = await fetch(`${srv.url}/api/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'x-forwarded-for': xff(i) },
        body: 'x',
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const passed = statuses.filter((s) => s !== 429).length;
    expect(passed).toBeLessThanOrEqual(11); // the burst, plus at most one refilled token
    expect(statuses.slice(-60).every((s) => s === 429)).toBe(true);
    // Another real client behind the same proxy still gets through.
    const other = await fetch(`${srv.url}/api/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', 'x-forwarded-for': xff(0).replace('203.0.113.7', '203.0.113.8') },
      body: 'x',
    });
    await other.arrayBuffer();
    expect(other.status).not.toBe(429);
  }, 60_000);
});
