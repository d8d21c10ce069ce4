import type { Log, Progress } from '../progress/index.js';

/** A unit of work: what to do (`kind`, with a handler registered for it) on which JSON `input`. */
export interface JobSpec<I = unknown> {
  kind: string;
  input: I;
}

/** A job as it travels to a worker: its id and the code version of the coordinator that made it. */
export interface JobEnvelope<I = unknown> extends JobSpec<I> {
  id: string;
  codeVersion: string;
}

export interface JobContext {
  /** Progress inside the job (e.g. images done of the shard). */
  onProgress?: (done: number, total: number) => void;
  log?: Log;
}

/** Computes one job of a kind. Throw `DeterministicJobError` for failures a retry cannot fix. */
export type JobHandler<I = unknown, O = unknown> = (input: I, ctx: JobContext) => Promise<O>;

export interface RunOptions {
  /** Called as jobs finish: finished jobs, all jobs. */
  onProgress?: Progress;
  /** Label for progress lines. */
  label?: string;
  /** Log lines of the jobs, where the executor can pass them on (the local pool; queue workers log themselves). */
  log?: Log;
}

/**
 * Runs jobs somewhere and returns their outputs in the order of `jobs`. Rejects with a `JobFailedError` naming
 * the job when one fails for good. Two implementations: a local pool of worker processes and a BullMQ queue.
 */
export interface Executor {
  /** For logs: "local pool of 2 processes", "queue redis://host:6379". */
  readonly description: string;
  /** True when the jobs run on this machine and can share its disk caches. */
  readonly local: boolean;
  run<O = unknown>(jobs: JobSpec[], options?: RunOptions): Promise<O[]>;
  close(): Promise<void>;
}

/**
 * A failure that happens again on every attempt (a corrupt image, an out-of-range setting, another code
 * version): the queue fails the job at once instead of retrying it.
 */
export class DeterministicJobError extends Error {
  readonly deterministic = true;
  constructor(message: string) {
    super(message);
    this.name = 'DeterministicJobError';
  }
}

/** A job that failed for good; `jobId` and `reason` name it for the pipeline's report. */
export class JobFailedError extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`job ${jobId} failed: ${reason}`);
    this.name = 'JobFailedError';
  }
}
