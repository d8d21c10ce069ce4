import type { JobHandler } from '../jobs/job.js';
import { JOB_HANDLERS } from '../jobs/kinds.js';
import { LocalExecutor, type LocalExecutorOptions } from '../jobs/local-executor.js';
import { PREDICT_SHARD_KIND, predictShardJob, type PredictShardInput } from './predict-shard.js';
import { TRIAL_KIND, trialJob } from './trial-job.js';
import type { TrialTask } from './trial-task.js';

/**
 * Every job kind of the pipelines: the kinds of `src/jobs` (backbone-feature shards) plus tuning trials and
 * prediction shards, which need the training and the registry. Workers (`areyouacat worker`, the local pool)
 * serve these.
 */
export const PIPELINE_JOB_HANDLERS: Record<string, JobHandler> = {
  ...JOB_HANDLERS,
  [TRIAL_KIND]: (input, ctx) => trialJob(input as TrialTask, ctx),
  [PREDICT_SHARD_KIND]: (input, ctx) => predictShardJob(input as PredictShardInput, ctx),
};

/** The worker process module of a local pool that serves every pipeline job kind. */
export const PIPELINE_POOL_WORKER = 'src/pipelines/job-worker.ts';

/** A local pool of worker processes (one per core by default) that computes every pipeline job kind. */
export function localJobExecutor(options: Omit<LocalExecutorOptions, 'workerModule'> = {}): LocalExecutor {
  return new LocalExecutor({ ...options, workerModule: PIPELINE_POOL_WORKER });
}
