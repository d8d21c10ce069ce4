import { FEATURE_SHARD_KIND, featureShardJob, type FeatureShardInput } from './feature-shard.js';
import type { JobHandler } from './job.js';
import { PREPARED_PIXELS_KIND, preparedPixelsJob, type PreparedPixelsInput } from './prepared-pixels-shard.js';

/** Every job kind a worker can compute, by name. */
export const JOB_HANDLERS: Record<string, JobHandler> = {
  [FEATURE_SHARD_KIND]: (input, ctx) => featureShardJob(input as FeatureShardInput, ctx),
  [PREPARED_PIXELS_KIND]: (input, ctx) => preparedPixelsJob(input as PreparedPixelsInput, ctx),
};
