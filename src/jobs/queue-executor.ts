import type { Log } from '../progress/index.js';
import { Job, Queue, QueueEvents } from 'bullmq';
import { codeVersion } from './code-version.js';
import { envelopes } from './envelopes.js';
import { JobFailedError, type Executor, type JobEnvelope, type JobSpec, type RunOptions } from './job.js';
import { blockingConnection, checkRedisReachable, DEFAULT_QUEUE_NAME, displayUrl, producerConnection } from './queue-connection.js';

export interface QueueExecutorOptions {
  /** `redis://HOST:6379`. */
  url: string;
  queueName?: string;
  /** Code version stamped on the jobs (default: this checkout's). */
  codeVersion?: string;
  /** Attempts per job for transient failures (a killed worker, a network error); deterministic ones fail at once. */
  attempts?: number;
  /** How long Redis may stay unreachable during a run before the run stops (default 15 s). */
  lostRedisMs?: number;
  /** How long the run may go without any job finishing or reporting progress before it stops (default 10 min). */
  idleTimeoutMs?: number;
  /** Bound on connecting at start (default 5 s). */
  connectTimeoutMs?: number;
  /** How often the coordinator checks Redis and reconciles job states (default 1 s). */
  pollMs?: number;
  log?: Log;
}

const MAX_IDS_IN_MESSAGE = 10;
function idList(ids: string[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_MESSAGE).join(', ');
  return ids.length > MAX_IDS_IN_MESSAGE ? `${shown} and ${ids.length - MAX_IDS_IN_MESSAGE} more` : shown;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function parseReturn(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Jobs on a BullMQ queue in Redis, computed by `areyouacat worker --queue URL` processes on any machine. The
 * coordinator adds the jobs, follows them through QueueEvents (and reconciles with the job states every few
 * polls, so a missed event cannot hang it), and stops with an error naming the unfinished jobs when Redis
 * stays unreachable or nothing happens for too long.
 */
export class QueueExecutor implements Executor {
  readonly description: string;
  readonly local = false;
  private readonly version: string;
  /** Redis went away during a run: close() drops the connections instead of a graceful close. */
  private lost = false;

  private constructor(
    private readonly opts: QueueExecutorOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {
    this.description = `queue ${displayUrl(opts.url)}`;
    this.version = opts.codeVersion ?? codeVersion();
  }

  /** Connect (bounded; a clear error naming the URL when Redis is unreachable). */
  static async open(opts: QueueExecutorOptions): Promise<QueueExecutor> {
    const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    await checkRedisReachable(opts.url, connectTimeoutMs);
    const name = opts.queueName ?? DEFAULT_QUEUE_NAME;
    // Completed events carry the results (a 32-image feature shard is about 120 KB): keep the event stream short;
    // results whose event was trimmed away are picked up by the reconciliation from the job itself.
    const queue = new Queue(name, { connection: producerConnection(opts.url), streams: { events: { maxLen: 500 } } });
    const events = new QueueEvents(name, { connection: blockingConnection(opts.url) });
    // Connection errors surface through the bounded checks in run(); keep them from crashing the process.
    queue.on('error', () => {});
    events.on('error', () => {});
    try {
      await withTimeout(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), connectTimeoutMs, `connect to the job queue at ${displayUrl(opts.url)}`);
    } catch (err) {
      await Promise.allSettled([queue.close(), events.close()]);
      throw err;
    }
    return new QueueExecutor(opts, queue, events);
  }

  async run<O = unknown>(jobs: JobSpec[], options: RunOptions = {}): Promise<O[]> {
    if (jobs.length === 0) return [];
    const url = displayUrl(this.opts.url);
    const all = envelopes(jobs, this.version);
    const indexOf = new Map(all.map((j, i) => [j.id, i]));
    const results = new Array<O>(jobs.length);
    const pending = new Set(indexOf.keys());
    const lostRedisMs = this.opts.lostRedisMs ?? 15_000;
    const idleTimeoutMs = this.opts.idleTimeoutMs ?? 600_000;
    const pollMs = this.opts.pollMs ?? 1000;
    let done = 0;
    let lastActivity = Date.now();
    let failingSince: number | null = null;
    let settle!: (err?: Error) => void;
    const finished = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    let over = false;
    const finish = (err?: Error) => {
      if (over) return;
      over = true;
      settle(err);
    };
    const complete = (id: string, value: unknown) => {
      if (!pending.delete(id)) return;
      results[indexOf.get(id)!] = parseReturn(value) as O;
      lastActivity = Date.now();
      options.onProgress?.(++done, jobs.length, options.label);
      if (pending.size === 0) finish();
    };
    const fail = (id: string, reason: string) => {
      // Out of `pending`: a failed job stays on the queue (for `queue status`) while the rest are withdrawn.
      if (pending.delete(id)) finish(new JobFailedError(id, reason));
    };
    const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => complete(jobId, returnvalue);
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => fail(jobId, failedReason);
    const onActivity = ({ jobId }: { jobId: string }) => {
      if (pending.has(jobId)) lastActivity = Date.now();
    };
    this.events.on('completed', onCompleted);
    this.events.on('failed', onFailed);
    this.events.on('progress', onActivity);
    this.events.on('active', onActivity);

    let ticks = 0;
    let busy = false;
    const tick = async () => {
      if (busy || over) return;
      busy = true;
      try {
        const check = async () => (await this.queue.backend.client).get('areyouacat:liveness');
        await withTimeout(check(), Math.max(2000, pollMs), 'liveness check');
        failingSince = null;
        if (++ticks % 3 === 0) await withTimeout(this.reconcile([...pending].slice(0, 200), complete, fail), 10_000, 'job states');
      } catch (err) {
        failingSince ??= Date.now();
        if (Date.now() - failingSince >= lostRedisMs) {
          this.lost = true;
          finish(new Error(`lost the job queue at ${url} for ${Math.round((Date.now() - failingSince) / 1000)} s (${(err as Error).message}); unfinished jobs: ${idList([...pending])}`));
        }
      } finally {
        busy = false;
      }
      if (!over && Date.now() - lastActivity >= idleTimeoutMs) {
        const workers = await withTimeout(this.queue.getWorkersCount(), 2000, 'workers').catch(() => '?');
        finish(new Error(`no job finished or reported progress for ${Math.round(idleTimeoutMs / 1000)} s on ${url} (${workers} workers connected); unfinished jobs: ${idList([...pending])}`));
      }
    };
    const timer = setInterval(() => void tick(), pollMs);
    try {
      options.onProgress?.(0, jobs.length, options.label);
      const workers = await this.queue.getWorkersCount();
      if (workers === 0) this.opts.log?.(`queue: no worker is connected to ${url} yet; start one with \`areyouacat worker --queue ${url}\``);
      await this.add(all);
      lastActivity = Date.now();
      await finished;
      return results;
    } catch (err) {
      // Errors from finish() already name the queue and the jobs; anything else (Redis gone while adding) gets both.
      if (err instanceof JobFailedError || (err as Error).message.includes(url)) throw err;
      throw new Error(`job queue at ${url}: ${(err as Error).message}; unfinished jobs: ${idList([...pending])}`);
    } finally {
      clearInterval(timer);
      this.events.off('completed', onCompleted);
      this.events.off('failed', onFailed);
      this.events.off('progress', onActivity);
      this.events.off('active', onActivity);
      if (pending.size) await this.withdraw([...pending]);
    }
  }

  private async add(all: JobEnvelope[]): Promise<void> {
    const attempts = this.opts.attempts ?? 3;
    for (let i = 0; i < all.length; i += 500) {
      await this.queue.addBulk(
        all.slice(i, i + 500).map((job) => ({
          name: job.kind,
          data: job,
          opts: {
            jobId: job.id,
            attempts,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: { age: 3600, count: 10_000 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        })),
      );
    }
  }

  /** Catch up with jobs whose events were missed (e.g. while QueueEvents reconnected). */
  private async reconcile(ids: string[], complete: (id: string, v: unknown) => void, fail: (id: string, reason: string) => void): Promise<void> {
    for (const id of ids) {
      const job = await Job.fromId(this.queue, id);
      if (!job?.finishedOn) continue;
      const state = await job.getState();
      if (state === 'completed') complete(id, job.returnvalue);
      else if (state === 'failed') fail(id, job.failedReason);
    }
  }

  /** Best effort, bounded: take the jobs of a stopped run off the queue so no worker computes them for nothing. */
  private async withdraw(ids: string[]): Promise<void> {
    await withTimeout(
      Promise.allSettled(ids.map((id) => this.queue.remove(id))),
      2000,
      'withdraw',
    ).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.lost) {
      await withTimeout(Promise.allSettled([this.queue.disconnect(), this.events.disconnect()]), 2000, 'disconnect').catch(() => {});
      return;
    }
    await withTimeout(Promise.allSettled([this.queue.close(), this.events.close()]), 5000, 'close').catch(() => {
      void this.queue.disconnect();
      void this.events.disconnect();
    });
  }
}
