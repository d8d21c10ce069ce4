import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { checkRedisReachable, DEFAULT_QUEUE_NAME, displayUrl, producerConnection } from './queue-connection.js';
import { heartbeatPrefix, type WorkerHeartbeat } from './worker-heartbeat.js';

export interface QueueStatus {
  url: string;
  queue: string;
  counts: { waiting: number; active: number; delayed: number; failed: number; completed: number };
  /** Workers whose heartbeat is less than a minute old. */
  workers: WorkerHeartbeat[];
  /** Connections BullMQ lists as workers of this queue right now. */
  connectedWorkers: number;
  recentFailures: Array<{ id: string; reason: string }>;
}

/** Job counts, the workers seen recently and the latest failures of a queue. */
export async function queueStatus(url: string, queueName = DEFAULT_QUEUE_NAME): Promise<QueueStatus> {
  await checkRedisReachable(url);
  const queue = new Queue(queueName, { connection: producerConnection(url) });
  const redis = new Redis(producerConnection(url));
  queue.on('error', () => {});
  redis.on('error', () => {});
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${heartbeatPrefix(queueName)}*`, 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const values = keys.length ? await redis.mget(...keys) : [];
    const workers = values.flatMap((v) => (v ? [JSON.parse(v) as WorkerHeartbeat] : [])).sort((a, b) => a.name.localeCompare(b.name));
    const failed = await queue.getFailed(0, 4);
    return {
      url: displayUrl(url),
      queue: queueName,
      counts: { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, completed: c.completed ?? 0 },
      workers,
      connectedWorkers: (await queue.getWorkers()).length,
      recentFailures: failed.map((j) => ({ id: String(j.id), reason: j.failedReason })),
    };
  } finally {
    await queue.close().catch(() => {});
    redis.disconnect();
  }
}
