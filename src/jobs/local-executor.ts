import os from 'node:os';
import path from 'node:path';
import { paths, projectRoot } from '../storage/paths.js';
import { ProcessPool } from '../tuning/process-pool.js';
import { codeVersion } from './code-version.js';
import { envelopes } from './envelopes.js';
import { engineEnvForWorkers, ORT_THREADS_ENV } from '../model/engine.js';
import { JobFailedError, type Executor, type JobContext, type JobHandler, type JobSpec, type RunOptions } from './job.js';
import { runJob } from './run-job.js';

export interface LocalExecutorOptions {
  /** Worker processes; default one per core. */
  workers?: number;
  /** Code version stamped on the jobs (default: this checkout's). */
  codeVersion?: string;
  /**
   * The worker process module (relative to the project root) that serves the jobs; default `src/jobs/pool-worker.ts`
   * (the kinds of kinds.ts). Higher layers that register more kinds pass their own.
   */
  workerModule?: string;
  /** The pretrained backbones the jobs compute features of, when known (default: any); see engineEnvForWorkers. */
  backbones?: readonly string[];
}

/** Jobs on a pool of worker processes on this machine (tfjs's wasm backend uses one core per process). */
export class LocalExecutor implements Executor {
  readonly description: string;
  readonly local = true;
  private readonly pool: ProcessPool;
  private readonly version: string;

  constructor(options: LocalExecutorOptions = {}) {
    const workers = Math.max(1, options.workers ?? os.cpus().length);
    this.version = options.codeVersion ?? codeVersion();
    // One process per core: each takes its share of the cores for ONNX Runtime's threads (unless set explicitly).
    const ortThreads = process.env[ORT_THREADS_ENV] || String(Math.max(1, Math.floor(os.availableParallelism() / workers)));
    // Told tfjs when onnxruntime-node cannot load here: this process says so once, not every worker again.
    const env = { ...process.env, AREYOUACAT_HOME: paths.root(), [ORT_THREADS_ENV]: ortThreads, ...engineEnvForWorkers(options.backbones) };
    this.pool = new ProcessPool(path.join(projectRoot(), ...(options.workerModule ?? 'src/jobs/pool-worker.ts').split('/')), workers, env);
    this.description = `local pool of ${workers} process${workers === 1 ? '' : 'es'}`;
  }

  async run<O = unknown>(jobs: JobSpec[], options: RunOptions = {}): Promise<O[]> {
    let done = 0;
    options.onProgress?.(0, jobs.length, options.label);
    return Promise.all(
      envelopes(jobs, this.version).map(async (job) => {
        try {
          const out = await this.pool.run<O>(job, (e) => {
            const line = (e as { line?: unknown }).line;
            if (typeof line === 'string') options.log?.(line);
          });
          options.onProgress?.(++done, jobs.length, options.label);
          return out;
        } catch (err) {
          throw new JobFailedError(job.id, (err as Error).message);
        }
      }),
    );
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Jobs computed one after another in this process (small batches, notebooks); same handlers, same checks. */
export class InlineExecutor implements Executor {
  readonly description = 'this process';
  readonly local = true;
  constructor(
    private readonly handlers: Record<string, JobHandler>,
    private readonly ctx: JobContext = {},
  ) {}

  async run<O = unknown>(jobs: JobSpec[], options: RunOptions = {}): Promise<O[]> {
    const out: O[] = [];
    options.onProgress?.(0, jobs.length, options.label);
    for (const job of envelopes(jobs, codeVersion())) {
      try {
        out.push((await runJob(job, this.handlers, { ...this.ctx, log: this.ctx.log ?? options.log })) as O);
      } catch (err) {
        throw new JobFailedError(job.id, (err as Error).message);
      }
      options.onProgress?.(out.length, jobs.length, options.label);
    }
    return out;
  }

  async close(): Promise<void> {}
}
