import { codeVersion } from './code-version.js';
import { DeterministicJobError, type JobContext, type JobEnvelope, type JobHandler } from './job.js';

/**
 * Compute one job with the handler registered for its kind, after checking that it was made by the same code
 * version as this process runs (a worker on another checkout would compute different numbers).
 */
export async function runJob(job: JobEnvelope, handlers: Record<string, JobHandler>, ctx: JobContext = {}): Promise<unknown> {
  const mine = codeVersion();
  if (job.codeVersion !== mine) {
    throw new DeterministicJobError(
      `refused job ${job.id}: it was made by code version ${job.codeVersion}, this worker runs ${mine}; run the worker from the coordinator's checkout`,
    );
  }
  const handler = handlers[job.kind];
  if (!handler) throw new DeterministicJobError(`refused job ${job.id}: no handler for job kind "${job.kind}" (known: ${Object.keys(handlers).join(', ')})`);
  return handler(job.input, ctx);
}
