import { FEATURE_SHARD_KIND, featureShardJob, type FeatureShardInput } from './feature-shard.js';
import type { JobHandler } from './job.js';

/** Every job kind a worker can compute, by name. */
export const JOB_HANDLERS: Record<string, JobHandler> = {
  [FEATURE_SHARD_KIND]: (input, ctx) => featureShardJob(input as FeatureShardInput, ctx),
};
