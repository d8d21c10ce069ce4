/**
 * Issue 26, defect 7: a queue deploy checks every configured store (the queue's Redis, the S3 bucket) before its
 * first step and fails fast with the fix; a missing bucket is created as feedback storage creates its own. Real
 * Redis, real S3, and the real CLI in a child process on a fresh data folder.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfiguredStores, StoreCheckError } from '../../src/storage/store-check.js';
import { checkRedisReachable } from '../../src/jobs/queue-connection.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { s3Env, startTestS3, type TestS3 } from '../helpers/s3-server.js';

if (!hasRedisServer) console.warn(NO_REDIS_MESSAGE);

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const p = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return p;
}

describe.skipIf(!hasRedisServer)('stores checked before the first step', () => {
  let redis: TestRedis;
  let s3: TestS3;
  let home: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    s3 = await startTestS3('preflight');
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-preflight-'));
  }, 120_000);

  afterAll(async () => {
    await redis?.stop();
    await s3?.stop();
    await fs.rm(home, { recursive: true, force: true });
  });

  it('pipeline deploy --queue with S3 unreachable stops before ingest, naming the fix', async () => {
    const t0 = Date.now();
    const port = await closedPort();
    const env = { ...process.env, AREYOUACAT_HOME: home, NO_COLOR: '1', ...s3Env(s3), AREYOUACAT_S3_ENDPOINT: `http://127.0.0.1:${port}` };
    const child = spawn(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), 'src/cli/main.ts', 'pipeline', 'deploy', '--data', 'synthetic:seed=1,n=80', '--queue', redis.url], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, out).not.toBe(0);
    expect(out).toMatch(/S3 bucket s3:\/\/\S+ .*cannot be used/);
    expect(out).toMatch(/AREYOUACAT_S3_ENDPOINT/);
    expect(await fs.readdir(path.join(home, 'datasets')).catch(() => [])).toEqual([]);
    expect(Date.now() - t0, out).toBeLessThan(60_000);
  }, 600_000);

  it('a missing bucket is created, as feedback storage does; an unreachable Redis names the fix', async () => {
    const bucket = `${s3.bucket}-missing`;
    expect(await s3.store.listKeys(bucket).then(() => true, () => false)).toBe(false);
    await checkConfiguredStores({ env: { ...process.env, ...s3Env(s3), AREYOUACAT_S3_BUCKET: bucket } });
    expect(await s3.store.listKeys(bucket).then(() => true, () => false)).toBe(true);

    const port = await closedPort();
    const failing = checkConfiguredStores({
      queueUrl: `redis://127.0.0.1:${port}`,
      checkRedis: (url) => checkRedisReachable(url, 2000),
      env: {},
    });
    await expect(failing).rejects.toBeInstanceOf(StoreCheckError);
    await expect(failing).rejects.toThrow(/redis-server/);
  }, 120_000);
});
