import type { Log } from '../progress/index.js';
import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { codeVersion } from './code-version.js';
import type { JobEnvelope, JobHandler } from './job.js';
import { JOB_HANDLERS } from './kinds.js';
import { blockingConnection, checkRedisReachable, DEFAULT_QUEUE_NAME, displayUrl, producerConnection } from './queue-connection.js';
import { runJob } from './run-job.js';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TTL_S, heartbeatPrefix, type WorkerHeartbeat } from './worker-heartbeat.js';

export interface QueueWorkerOptions {
  url: string;
  queueName?: string;
  /** Jobs this process computes at once (default 1: tfjs's wasm backend uses one core per process). */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal (default 30 s). A worker killed mid-job loses its jobs to
   * another worker this long after its last renewal; tests use a short one.
   */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (default: the lock duration). */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it fails (default 2). */
  maxStalledCount?: number;
  handlers?: Record<string, JobHandler>;
  log?: Log;
}

export interface RunningQueueWorker {
  readonly name: string;
  /** Finish the jobs in hand, then disconnect. */
  close(): Promise<void>;
}

/**
 * A queue worker: takes jobs from the BullMQ queue, refuses jobs of another code version, computes the rest
 * with the registered handlers, and fails deterministic errors at once (UnrecoverableError: no retries).
 */
export async function startQueueWorker(opts: QueueWorkerOptions): Promise<RunningQueueWorker> {
  await checkRedisReachable(opts.url);
  const log = opts.log ?? (() => {});
  const queueName = opts.queueName ?? DEFAULT_QUEUE_NAME;
  const handlers = opts.handlers ?? JOB_HANDLERS;
  const name = `${os.hostname()}-${process.pid}`;
  const lockDuration = opts.lockDurationMs ?? 30_000;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const version = codeVersion();
  const beat: WorkerHeartbeat = {
    name, host: os.hostname(), pid: process.pid, codeVersion: version, concurrency,
    startedAt: new Date().toISOString(), seenAt: '', completed: 0, failed: 0,
  };

  const worker = new Worker(
    queueName,
    async (job: Job) => {
      const started = Date.now();
      const envelope = job.data as JobEnvelope;
      try {
        const out = await runJob(envelope, handlers, {
          onProgress: (done, total) => void job.updateProgress({ done, total }).catch(() => {}),
          log,
        });
        beat.completed++;
        log(`job ${job.id} (${envelope.kind}) done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return out;
      } catch (err) {
        beat.failed++;
        const e = err as Error & { deterministic?: boolean };
        log(`job ${job.id} (${envelope.kind}) failed${e.deterministic ? '' : ' (will be retried)'}: ${e.message}`);
        if (e.deterministic) throw new UnrecoverableError(e.message);
        throw err;
      }
    },
    {
      connection: blockingConnection(opts.url),
      concurrency,
      name,
      lockDuration,
      stalledInterval: opts.stalledIntervalMs ?? lockDuration,
      maxStalledCount: opts.maxStalledCount ?? 2,
      autorun: false,
    },
  );
  worker.on('error', (err) => log(`queue ${displayUrl(opts.url)}: ${err.message}`));

  const redis = new Redis({ ...producerConnection(opts.url), lazyConnect: true });
  redis.on('error', () => {});
  await redis.connect();
  const key = `${heartbeatPrefix(queueName)}${name}`;
  const sendBeat = () => {
    beat.seenAt = new Date().toISOString();
    redis.set(key, JSON.stringify(beat), 'EX', HEARTBEAT_TTL_S).catch(() => {});
  };
  sendBeat();
  const timer = setInterval(sendBeat, HEARTBEAT_INTERVAL_MS);
  void worker.run().catch((err) => log(`worker stopped: ${(err as Error).message}`));
  await worker.waitUntilReady();
  log(`worker ${name} on ${displayUrl(opts.url)} (queue ${queueName}, code version ${version}, concurrency ${concurrency})`);

  return {
    name,
    async close() {
      clearInterval(timer);
      await worker.close();
      await redis.del(key).catch(() => {});
      redis.disconnect();
    },
  };
}
