import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { Redis } from 'ioredis';

interface UrlOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
}

/** The queue every coordinator and worker of one deployment share (one Redis may serve several by name). */
export const DEFAULT_QUEUE_NAME = 'areyouacat-jobs';

/** Environment variable naming the queue when `--queue` is not given. */
export const QUEUE_URL_ENV = 'AREYOUACAT_QUEUE_URL';

/** Connection settings from `redis://[user:password@]host[:port][/db]` (also `rediss://` for TLS). */
export function redisOptionsFromUrl(url: string): UrlOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`queue URL "${url}" is not a URL (expected redis://HOST:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`queue URL "${url}" must start with redis:// or rediss://`);
  const db = u.pathname.replace(/^\/+/, '');
  if (db && !/^\d+$/.test(db)) throw new Error(`queue URL "${url}": the path must be a database number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL without its password, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connect once, without retries, and PING: fails within `timeoutMs` with an error naming the URL when Redis is
 * unreachable, so that nothing is started (or half-written) against a queue that is not there.
 */
export async function checkRedisReachable(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis({
    ...redisOptionsFromUrl(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new Error(`cannot reach the job queue at ${displayUrl(url)}: ${e.code ?? e.message}`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/**
 * Connection options for a coordinator's Queue: commands fail (instead of waiting in an offline queue) when
 * Redis is gone, and reconnects keep being tried so that a restarted Redis is picked up again.
 */
export function producerConnection(url: string): BullRedisOptions {
  return {
    ...redisOptionsFromUrl(url),
    connectTimeout: 5000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/**
 * Connection options for blocking clients (Worker, QueueEvents): BullMQ requires `maxRetriesPerRequest: null`
 * there; they reconnect after a Redis restart and carry on.
 */
export function blockingConnection(url: string): BullRedisOptions {
  return {
    ...redisOptionsFromUrl(url),
    connectTimeout: 5000,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}
