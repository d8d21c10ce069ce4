import { checkRedisReachable, QUEUE_URL_ENV } from './queue-connection.js';
import { checkConfiguredStores } from '../storage/store-check.js';
import { QueueExecutor, type QueueExecutorOptions } from './queue-executor.js';

/** The queue URL a command uses: `--queue`, else AREYOUACAT_QUEUE_URL, else none (local pool). */
export function queueUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = flag ?? env[QUEUE_URL_ENV];
  return url ? url : undefined;
}

/**
 * A queue executor for `url` (connected, or a clear error naming the URL), or undefined for the local default. Every
 * store the jobs will use (the queue's Redis, the S3 bucket workers share) is checked first, so a command fails
 * before its first step, with the fix, when one cannot be used.
 */
export async function openQueueExecutor(url: string | undefined, options: Omit<QueueExecutorOptions, 'url'> = {}): Promise<QueueExecutor | undefined> {
  if (!url) return undefined;
  await checkConfiguredStores({ queueUrl: url, checkRedis: (u) => checkRedisReachable(u, options.connectTimeoutMs ?? 5000) });
  return QueueExecutor.open({ ...options, url });
}
