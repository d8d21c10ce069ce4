import type { DataSource } from '../data/types.js';
import type { Executor } from '../jobs/job.js';
import type { Progress } from '../progress/index.js';
import { PREDICT_SHARD_KIND, type PredictShardInput, type PredictShardOutput } from './predict-shard.js';
import type { SourcePrediction } from './predict-source.js';

export interface PredictJobsOptions {
  /** Images per job (default 256; a multiple of the prediction batch of 64 keeps the numbers of the local path). */
  shardSize?: number;
  /** The published registry the workers download the version from (see PredictShardInput.models). */
  models?: string;
  onProgress?: Progress;
}

/**
 * Batch predictions as jobs: list the source, cut its items into shards, let the executor's workers score each
 * shard with registry version `version`, and gather the rows in the order of the listing (the local path's order).
 */
export async function predictSourceWithJobs(
  spec: string,
  source: DataSource,
  version: number,
  executor: Executor,
  opts: PredictJobsOptions = {},
): Promise<SourcePrediction[]> {
  const items = await source.list();
  const shardSize = opts.shardSize ?? 256;
  const jobs: Array<{ kind: string; input: PredictShardInput }> = [];
  for (let s = 0; s < items.length; s += shardSize) jobs.push({ kind: PREDICT_SHARD_KIND, input: { source: spec, items: items.slice(s, s + shardSize), version, ...(opts.models ? { models: opts.models } : {}) } });
  const results = await executor.run<PredictShardOutput>(jobs, { onProgress: opts.onProgress, label: 'predict jobs' });
  return results.flatMap((r) => r.rows);
}
