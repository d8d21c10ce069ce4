// Worker process of the local job pool: computes jobs of every registered kind (see kinds.ts).
// Started by LocalExecutor through ProcessPool, one per core by default.
import { serveTasks } from '../tuning/process-pool.js';
import type { JobEnvelope } from './job.js';
import { JOB_HANDLERS } from './kinds.js';
import { runJob } from './run-job.js';

serveTasks(async (task, emit) =>
  runJob(task as JobEnvelope, JOB_HANDLERS, {
    onProgress: (done, total) => emit({ done, total }),
    log: (line) => emit({ line }),
  }),
);
