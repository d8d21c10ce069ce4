/** What a worker writes into Redis every few seconds, so `queue status` can list the workers seen recently. */
export interface WorkerHeartbeat {
  name: string;
  host: string;
  pid: number;
  codeVersion: string;
  concurrency: number;
  startedAt: string;
  seenAt: string;
  completed: number;
  failed: number;
}

/** Key prefix of the heartbeats of one queue (entries expire a minute after a worker's last beat). */
export function heartbeatPrefix(queueName: string): string {
  return `areyouacat:${queueName}:worker:`;
}

export const HEARTBEAT_INTERVAL_MS = 10_000;
export const HEARTBEAT_TTL_S = 60;
