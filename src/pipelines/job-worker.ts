// Worker process of a local pool that computes every pipeline job kind (see job-kinds.ts): feature shards,
// tuning trials, prediction shards. Started by LocalExecutor through ProcessPool, one per core by default.
import { runJob } from '../jobs/run-job.js';
import type { JobEnvelope } from '../jobs/job.js';
import { serveTasks } from '../tuning/process-pool.js';
import { PIPELINE_JOB_HANDLERS } from './job-kinds.js';

serveTasks(async (task, emit) =>
  runJob(task as JobEnvelope, PIPELINE_JOB_HANDLERS, {
    onProgress: (done, total) => emit({ done, total }),
    log: (line) => emit({ line }),
  }),
);
