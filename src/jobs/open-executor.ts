import { QUEUE_URL_ENV } from './queue-connection.js';
import { QueueExecutor, type QueueExecutorOptions } from './queue-executor.js';

/** The queue URL a command uses: `--queue`, else AREYOUACAT_QUEUE_URL, else none (local pool). */
export function queueUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = flag ?? env[QUEUE_URL_ENV];
  return url ? url : undefined;
}

/** A queue executor for `url` (connected, or a clear error naming the URL), or undefined for the local default. */
export async function openQueueExecutor(url: string | undefined, options: Omit<QueueExecutorOptions, 'url'> = {}): Promise<QueueExecutor | undefined> {
  return url ? QueueExecutor.open({ ...options, url }) : undefined;
}
